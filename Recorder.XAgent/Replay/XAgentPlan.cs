using System.Text.Json.Nodes;

namespace Recorder.XAgent.Replay;

/// <summary>
/// One subtask of the plan: <paramref name="Item"/> holds the fields XAgent's <c>TaskSaveItem.to_json</c> writes
/// (<c>name</c>, <c>goal</c>, <c>prior_plan_criticsim</c>, <c>milestones</c>, <c>exceute_status</c>, and
/// <c>action_list_summary</c> when known), misspellings included.
/// </summary>
internal sealed record XAgentPlanNode(string TaskId, JsonObject Item, IReadOnlyList<XAgentPlanNode> Children);

/// <summary>Builds the plan tree from the initial split's <c>subtasks</c> or a refinement's <c>plan_after</c>.</summary>
internal static class XAgentPlan
{
    public const string RootTaskId = "1";

    /// <summary>Subtasks as the plan LLM writes them (<c>"subtask name"</c>, <c>goal: {goal, criticism}</c>) or as the plan serializes them; ids "1.1", "1.2", ... when absent.</summary>
    public static IReadOnlyList<XAgentPlanNode> FromSubtasks(JsonArray subtasks, string parentId, XAgentOrigin origin) =>
        subtasks.Select((entry, i) => entry is JsonObject obj
                ? Node(obj, $"{parentId}.{i + 1}", origin)
                : throw XAgentRecordParser.Error(origin, $"subtask {i + 1} of the plan is not a JSON object"))
            .ToList();

    /// <summary>The subtasks of a <c>plan_after</c> root (the whole plan, serialized by XAgent's <c>Plan.to_json</c>).</summary>
    public static IReadOnlyList<XAgentPlanNode> FromPlanAfter(JsonNode? planAfter, XAgentOrigin origin) =>
        planAfter is JsonObject root
            ? Node(root, RootTaskId, origin).Children
            : throw XAgentRecordParser.Error(origin, "plan_after is not a JSON object");

    /// <summary>Every node in XAgent's traversal order (a node, then its children).</summary>
    public static IEnumerable<XAgentPlanNode> Preorder(IEnumerable<XAgentPlanNode> nodes) =>
        nodes.SelectMany(n => Preorder(n.Children).Prepend(n));

    /// <summary>A stand-in for a subtask the plan does not know (no plan recorded); milestones from its submit call.</summary>
    public static XAgentPlanNode Fallback(string taskId, JsonNode? milestones) => new(
        taskId,
        new JsonObject
        {
            ["name"] = $"subtask {taskId}",
            ["goal"] = "",
            ["prior_plan_criticsim"] = "",
            ["milestones"] = milestones?.DeepClone() ?? new JsonArray(),
            ["exceute_status"] = "TODO",
        },
        []);

    private static XAgentPlanNode Node(JsonObject entry, string defaultId, XAgentOrigin origin)
    {
        var id = TaskId(entry) ?? defaultId;
        var goal = entry["goal"];
        var item = new JsonObject
        {
            ["name"] = (entry["subtask name"] ?? entry["name"])?.DeepClone() ?? "",
            ["goal"] = (goal is JsonObject g ? g["goal"] : goal)?.DeepClone() ?? "",
            ["prior_plan_criticsim"] = (goal is JsonObject c
                ? c["criticism"]
                : entry["prior_plan_criticsim"] ?? entry["prior_plan_criticism"])?.DeepClone() ?? "",
            ["milestones"] = entry["milestones"]?.DeepClone() ?? new JsonArray(),
            ["exceute_status"] = entry["exceute_status"]?.DeepClone() ?? "TODO",
        };
        if (entry["action_list_summary"] is JsonValue summary && summary.TryGetValue<string>(out var text) && text.Length > 0)
        {
            item["action_list_summary"] = text;
        }

        var children = entry["subtask"] switch
        {
            null => [],
            JsonArray array => FromSubtasks(array, id, origin),
            _ => throw XAgentRecordParser.Error(origin, $"\"subtask\" of plan node {id} is not a list"),
        };
        return new XAgentPlanNode(id, item, children);
    }

    private static string? TaskId(JsonObject entry) => entry["task_id"] switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) && s.Length > 0 => s,
        JsonValue v when v.TryGetValue<long>(out var n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };
}
