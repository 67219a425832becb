namespace Recorder.XAgent;

/// <summary>
/// An XAgent recording, each list in recorded order. The JSON nodes are owned by the recording (no parent);
/// copy them before putting them elsewhere. <paramref name="Workspace"/> is the run's workspace (disk only).
/// </summary>
public sealed record XAgentRecording(
    XAgentQuery Query,
    XAgentConfig? Config,
    IReadOnlyList<XAgentLlmCall> LlmCalls,
    IReadOnlyList<XAgentToolServerCall> ToolServerCalls,
    IReadOnlyList<XAgentToolCall> ToolCalls,
    IReadOnlyList<XAgentPlanRefine> PlanRefines,
    IReadOnlyList<WorkspaceFile> Workspace);
