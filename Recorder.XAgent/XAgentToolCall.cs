using System.Text.Json.Nodes;

namespace Recorder.XAgent;

/// <summary>One tool call of the subtask <paramref name="Current"/>; <paramref name="Thought"/> is the agent's thought record, when recorded.</summary>
public sealed record XAgentToolCall(
    string Current,
    string ToolName,
    JsonNode? ToolInput,
    JsonNode? ToolOutput,
    JsonNode? ToolStatusCode,
    JsonObject? Thought,
    XAgentOrigin Origin);
