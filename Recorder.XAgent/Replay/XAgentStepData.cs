using System.Text.Json.Nodes;

namespace Recorder.XAgent.Replay;

/// <summary>The <c>data</c> of each raw status, shaped field for field like XAgent's server writes it.</summary>
internal static class XAgentStepData
{
    /// <summary><c>start</c>: the root task and the plan's subtasks (each as <c>Plan.to_json</c> plus <c>inner: []</c>).</summary>
    public static JsonObject Start(XAgentQuery query, IReadOnlyList<XAgentPlanNode> plan) => new()
    {
        ["task_id"] = XAgentPlan.RootTaskId,
        ["name"] = $"act as {query.RoleName}",
        ["goal"] = query.Task,
        ["handler"] = "",
        ["tool_budget"] = "",
        ["subtasks"] = new JsonArray([.. plan.Select(node => With(PlanJson(node), ("inner", new JsonArray())))]),
    };

    /// <summary><c>inner</c> / <c>subtask_submit</c>: the agent's thought about the step and the tool it used.</summary>
    public static JsonObject Inner(XAgentToolCall call)
    {
        var thought = call.Thought?["thought"] as JsonObject;
        var properties = thought?["properties"] as JsonObject ?? thought;
        return new JsonObject
        {
            ["thoughts"] = properties?["thought"]?.DeepClone(),
            ["reasoning"] = properties?["reasoning"]?.DeepClone(),
            ["plan"] = PlanText(properties?["plan"]),
            ["criticism"] = properties?["criticism"]?.DeepClone(),
            ["node_id"] = NewId(),
            ["using_tools"] = new JsonObject
            {
                ["tool_name"] = call.ToolName,
                ["tool_input"] = call.ToolInput?.DeepClone(),
                ["tool_output"] = call.ToolOutput?.DeepClone(),
                ["tool_status_code"] = call.ToolStatusCode?.DeepClone(),
                ["thought_data"] = call.Thought?.DeepClone(),
            },
        };
    }

    /// <summary>
    /// <c>refinement</c>: the subtask as planned, with what the posterior step learned. The summary falls back to the
    /// plan after refinement, then to the submit call's conclusion.
    /// </summary>
    public static JsonObject Refinement(string taskId, XAgentPlanNode node, JsonObject? posterior, JsonNode? refinedSummary, JsonObject? submitResult) => new()
    {
        ["name"] = node.Item["name"]?.DeepClone(),
        ["goal"] = node.Item["goal"]?.DeepClone(),
        ["prior_plan_criticism"] = node.Item["prior_plan_criticsim"]?.DeepClone(),
        ["posterior_plan_reflection"] = posterior?["reflection_of_plan"]?.DeepClone() ?? new JsonArray(),
        ["milestones"] = node.Item["milestones"]?.DeepClone(),
        ["tool_reflection"] = posterior?["reflection_of_tool"]?.DeepClone() ?? new JsonArray(),
        ["action_list_summary"] = (posterior?["summary"] ?? refinedSummary ?? submitResult?["conclusion"])?.DeepClone() ?? "",
        ["task_id"] = taskId,
    };

    /// <summary><c>subtask</c>: the subtasks still to do, from the next one on, each with <c>task_id</c>, <c>inner: []</c>, <c>node_id</c>.</summary>
    public static JsonArray Subtask(IEnumerable<XAgentPlanNode> remaining) =>
        new([.. remaining.Select(node => With(
            (JsonObject)node.Item.DeepClone(), ("task_id", node.TaskId), ("inner", new JsonArray()), ("node_id", NewId())))]);

    /// <summary>XAgent's <c>Plan.to_json</c>: the item, its id, and its children under <c>subtask</c> when it has any.</summary>
    private static JsonObject PlanJson(XAgentPlanNode node)
    {
        var json = With((JsonObject)node.Item.DeepClone(), ("task_id", node.TaskId));
        if (node.Children.Count > 0)
        {
            json["subtask"] = new JsonArray([.. node.Children.Select(PlanJson)]);
        }

        return json;
    }

    /// <summary>XAgent shows a plan list as one text, one line per item.</summary>
    private static JsonNode? PlanText(JsonNode? plan) => plan switch
    {
        null => null,
        JsonArray items => string.Join("\n", items.Select(i => i is JsonValue v && v.TryGetValue<string>(out var s) ? s : i?.ToJsonString())),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => plan.ToJsonString(),
    };

    private static JsonObject With(JsonObject obj, params (string Key, JsonNode? Value)[] fields)
    {
        foreach (var (key, value) in fields)
        {
            obj[key] = value;
        }

        return obj;
    }

    private static string NewId() => Guid.NewGuid().ToString("N");
}
