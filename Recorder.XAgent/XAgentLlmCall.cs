using System.Text.Json.Nodes;

namespace Recorder.XAgent;

/// <summary>One LLM request and its chat-completion response; <paramref name="Current"/> is the subtask id when known (rows).</summary>
public sealed record XAgentLlmCall(JsonNode? Input, JsonNode? Output, long? InterfaceId, string? Current, XAgentOrigin Origin);
