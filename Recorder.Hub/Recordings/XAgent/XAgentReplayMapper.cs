using System.Text.Json.Nodes;
using Recorder.Client.Contracts;
using Recorder.Hub.Replay;

namespace Recorder.Hub.Recordings.XAgent;

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

        var steps = new List<ReplayStep>
        {
            new(RecorderStatus.Start, XAgentStepData.Start(recording.Query, plan), XAgentPlan.RootTaskId, false,
                initial?.Origin.Time ?? recording.Query.Origin.Time),
        };

        for (var i = 0; i < executed.Count; i++)
        {
            var id = executed[i];
            var calls = callsOf[id].ToList();
            foreach (var call in calls)
            {
                var status = call.ToolName == SubmitTool ? RecorderStatus.SubtaskSubmit : RecorderStatus.Inner;
                steps.Add(new(status, XAgentStepData.Inner(call), id, call.ToolName == NotebookTool, call.Origin.Time));
            }

            var submit = SubmitResult(calls);
            var refines = refinesOf[id].ToList();
            var refinedPlan = refines.Count > 0 ? XAgentPlan.FromPlanAfter(refines[^1].PlanAfter, refines[^1].Origin) : null;
            var posterior = posteriors.GetValueOrDefault(id);
            var node = Find(plan, id) ?? XAgentPlan.Fallback(id, submit?["milestones"]);
            var refinedSummary = refinedPlan is null ? null : Find(refinedPlan, id)?.Item["action_list_summary"];
            var refinedAt = posterior?.Origin.Time ?? calls[^1].Origin.Time;
            steps.Add(new(RecorderStatus.Refinement, XAgentStepData.Refinement(id, node, posterior?.Arguments, refinedSummary, submit), id, false, refinedAt));

            plan = refinedPlan ?? plan;
            if (i + 1 < executed.Count)
            {
                var next = executed[i + 1];
                var remaining = XAgentPlan.Preorder(plan).SkipWhile(n => n.TaskId != next).ToList();
                if (remaining.Count == 0)
                {
                    remaining = executed.Skip(i + 1).Select(x => XAgentPlan.Fallback(x, SubmitResult(callsOf[x])?["milestones"])).ToList();
                }

                steps.Add(new(RecorderStatus.Subtask, XAgentStepData.Subtask(remaining), next, false, refines.LastOrDefault()?.Origin.Time ?? refinedAt));
            }
        }

        return steps;
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
