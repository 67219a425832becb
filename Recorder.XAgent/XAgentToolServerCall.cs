using System.Text.Json.Nodes;

namespace Recorder.XAgent;

/// <summary>One request to XAgent's tool server.</summary>
public sealed record XAgentToolServerCall(string? Url, JsonNode? Payload, JsonNode? ResponseStatusCode, JsonNode? ToolOutput, XAgentOrigin Origin);
