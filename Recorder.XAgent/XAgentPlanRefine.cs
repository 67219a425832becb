using System.Text.Json.Nodes;

namespace Recorder.XAgent;

/// <summary>One plan refinement made after the subtask <paramref name="Current"/>; <paramref name="PlanAfter"/> is the whole plan after it.</summary>
public sealed record XAgentPlanRefine(
    string Current,
    string? FunctionName,
    JsonNode? FunctionInput,
    JsonNode? FunctionOutput,
    JsonNode? PlanAfter,
    XAgentOrigin Origin);
