using System.Text.Json.Nodes;

namespace Recorder.XAgent;

/// <summary><c>query.json</c>: the task the run was given.</summary>
public sealed record XAgentQuery(string RoleName, string Task, JsonNode? Plan, XAgentOrigin Origin);
