using System.Text.Json.Nodes;

namespace Recorder.Hub.Recordings.XAgent;

/// <summary>
/// Where a record of an XAgent recording came from: <paramref name="Source"/> is the file path relative to the
/// recording folder ('/' separated) or <c>running_record row &lt;id&gt;</c>; <paramref name="Time"/> is the file's
/// last-write time or the row's create_time.
/// </summary>
public sealed record XAgentOrigin(string Source, DateTimeOffset? Time);

/// <summary><c>query.json</c>: the task the run was given.</summary>
public sealed record XAgentQuery(string RoleName, string Task, JsonNode? Plan, XAgentOrigin Origin);

/// <summary><c>config.yml</c> as raw text (for rows: the JSON text of the config data).</summary>
public sealed record XAgentConfig(string Text, XAgentOrigin Origin);

/// <summary>One LLM request and its chat-completion response; <paramref name="Current"/> is the subtask id when known (rows).</summary>
public sealed record XAgentLlmCall(JsonNode? Input, JsonNode? Output, long? InterfaceId, string? Current, XAgentOrigin Origin);

/// <summary>One request to XAgent's tool server.</summary>
public sealed record XAgentToolServerCall(string? Url, JsonNode? Payload, JsonNode? ResponseStatusCode, JsonNode? ToolOutput, XAgentOrigin Origin);

/// <summary>One tool call of the subtask <paramref name="Current"/>; <paramref name="Thought"/> is the agent's thought record, when recorded.</summary>
public sealed record XAgentToolCall(
    string Current,
    string ToolName,
    JsonNode? ToolInput,
    JsonNode? ToolOutput,
    JsonNode? ToolStatusCode,
    JsonObject? Thought,
    XAgentOrigin Origin);

/// <summary>One plan refinement made after the subtask <paramref name="Current"/>; <paramref name="PlanAfter"/> is the whole plan after it.</summary>
public sealed record XAgentPlanRefine(
    string Current,
    string? FunctionName,
    JsonNode? FunctionInput,
    JsonNode? FunctionOutput,
    JsonNode? PlanAfter,
    XAgentOrigin Origin);

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
