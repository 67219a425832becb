using System.Text.Json.Nodes;
using Recorder.XAgent.Json;

namespace Recorder.XAgent.Replay;

/// <summary>
/// Turns an XAgent recording into the raws its run wrote, in order: <c>start</c>; then per executed subtask one
/// <c>inner</c> (or <c>subtask_submit</c>) per tool call, one <c>refinement</c>, and, when another subtask follows,
/// one <c>subtask</c> listing the remaining plan. The first <c>running</c> and the last <c>finished</c> raw are the run's own.
/// </summary>
public static class XAgentReplayMapper
{
    public const string SubmitTool = "subtask_submit";
    public const string NotebookTool = "PythonNotebook_execute_cell";

    public static Recording ToRecording(string name, XAgentRecording recording)
    {
        ArgumentNullException.ThrowIfNull(recording);
        return new Recording(name, Map(recording), recording.Workspace);
    }

    public static IReadOnlyList<ReplayStep> Map(XAgentRecording recording)
    {
        ArgumentNullException.ThrowIfNull(recording);

        // Subtasks in the order they ran: the record order of their tool calls (disk: folders by dotted id).
        var executed = recording.ToolCalls.Select(c => c.Current).Distinct().ToList();
        var callsOf = recording.ToolCalls.ToLookup(c => c.Current);
        var refinesOf = recording.PlanRefines.ToLookup(r => r.Current);
        var posteriors = XAgentLlmRecords.Posteriors(recording.LlmCalls, executed);

        var initial = XAgentLlmRecords.InitialPlan(recording.LlmCalls);
        var plan = initial is { } found
            ? XAgentPlan.FromSubtasks(found.Subtasks, XAgentPlan.RootTaskId, found.Origin)
            : executed.Select(id => XAgentPlan.Fallback(id, SubmitResult(callsOf[id])?["milestones"])).ToList();

        var steps = new List<ReplayStep>();
        var planOrigin = initial?.Origin ?? recording.Query.Origin;
        Add(steps, new(ReplayStatus.Start, XAgentStepData.Start(recording.Query, plan), XAgentPlan.RootTaskId, false,
            planOrigin.Time), planOrigin);

        for (var i = 0; i < executed.Count; i++)
        {
            var id = executed[i];
            var calls = callsOf[id].ToList();
            foreach (var call in calls)
            {
                var status = call.ToolName == SubmitTool ? ReplayStatus.SubtaskSubmit : ReplayStatus.Inner;
                Add(steps, new(status, XAgentStepData.Inner(call), id, call.ToolName == NotebookTool, call.Origin.Time), call.Origin);
            }

            var submit = SubmitResult(calls);
            var refines = refinesOf[id].ToList();
            var refinedPlan = refines.Count > 0 ? XAgentPlan.FromPlanAfter(refines[^1].PlanAfter, refines[^1].Origin) : null;
            var posterior = posteriors.GetValueOrDefault(id);
            var node = Find(plan, id) ?? XAgentPlan.Fallback(id, submit?["milestones"]);
            var refinedSummary = refinedPlan is null ? null : Find(refinedPlan, id)?.Item["action_list_summary"];
            var refinedFrom = posterior?.Origin ?? calls[^1].Origin;
            var refinedAt = refinedFrom.Time;
            Add(steps, new(ReplayStatus.Refinement, XAgentStepData.Refinement(id, node, posterior?.Arguments, refinedSummary, submit), id, false, refinedAt),
                refinedFrom);

            plan = refinedPlan ?? plan;
            planOrigin = refines.Count > 0 ? refines[^1].Origin : planOrigin;
            if (i + 1 < executed.Count)
            {
                var next = executed[i + 1];
                var remaining = XAgentPlan.Preorder(plan).SkipWhile(n => n.TaskId != next).ToList();
                if (remaining.Count == 0)
                {
                    remaining = executed.Skip(i + 1).Select(x => XAgentPlan.Fallback(x, SubmitResult(callsOf[x])?["milestones"])).ToList();
                }

                Add(steps, new(ReplayStatus.Subtask, XAgentStepData.Subtask(remaining), next, false, refines.LastOrDefault()?.Origin.Time ?? refinedAt),
                    planOrigin);
            }
        }

        return steps;
    }

    /// <summary>
    /// Adds the step, or fails the recording naming the record it came from when its data nests deeper than a raw's
    /// data may (<see cref="JsonDepth.MaxDepth"/>): such a raw could be neither stored as it is nor read by a client.
    /// </summary>
    private static void Add(List<ReplayStep> steps, ReplayStep step, XAgentOrigin origin)
    {
        var depth = JsonDepth.DepthOf(step.Data);
        if (depth > JsonDepth.MaxDepth)
        {
            throw XAgentRecordParser.Error(origin,
                $"its '{step.Status}' raw would nest {depth} levels deep, deeper than the limit of {JsonDepth.MaxDepth} levels for a raw's data");
        }

        steps.Add(step);
    }

    private static XAgentPlanNode? Find(IEnumerable<XAgentPlanNode> plan, string id) =>
        XAgentPlan.Preorder(plan).FirstOrDefault(n => n.TaskId == id);

    /// <summary>The <c>result</c> object of the subtask's last submit call ({conclusion, milestones, success}), when readable.</summary>
    private static JsonObject? SubmitResult(IEnumerable<XAgentToolCall> calls)
    {
        var input = calls.LastOrDefault(c => c.ToolName == SubmitTool)?.ToolInput;
        if (input is JsonValue v && v.TryGetValue<string>(out var text))
        {
            input = LenientJson.TryParse(text, out var parsed, out _) ? parsed : null;
        }

        return input is JsonObject obj ? obj["result"] as JsonObject : null;
    }
}
