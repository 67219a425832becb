using System.Globalization;
using System.Text.Json.Nodes;

namespace Recorder.XAgent.Rows;

/// <summary>Writes an XAgent recording as <c>running_record</c> rows (the inverse of <see cref="XAgentRowReader"/>), in an order that reads back the same.</summary>
public static class XAgentRunningRecords
{
    public static IReadOnlyList<NewRunningRecord> ToRows(XAgentRecording recording)
    {
        ArgumentNullException.ThrowIfNull(recording);
        var rows = new List<NewRunningRecord>
        {
            Row(null, 0, "query", new JsonObject
            {
                ["role_name"] = recording.Query.RoleName,
                ["task"] = recording.Query.Task,
                ["plan"] = recording.Query.Plan?.DeepClone(),
            }, recording.Query.Origin),
        };
        if (recording.Config is { } config)
        {
            rows.Add(Row(null, 0, "config", JsonValue.Create(config.Text), config.Origin));
        }

        rows.AddRange(recording.LlmCalls.Select((c, i) => Row(c.Current, c.InterfaceId ?? i, "llm_input_pair", new JsonObject
        {
            ["input"] = c.Input?.DeepClone(),
            ["output"] = c.Output?.DeepClone(),
            ["llm_interface_id"] = c.InterfaceId ?? i,
        }, c.Origin)));
        rows.AddRange(recording.ToolServerCalls.Select((c, i) => Row(null, i, "tool_server_pair", new JsonObject
        {
            ["url"] = c.Url,
            ["payload"] = c.Payload?.DeepClone(),
            ["response_status_code"] = c.ResponseStatusCode?.DeepClone(),
            ["tool_output"] = c.ToolOutput?.DeepClone(),
        }, c.Origin)));
        rows.AddRange(NumberedPerSubtask(recording.ToolCalls, c => c.Current, (c, n) =>
        {
            var data = new JsonObject
            {
                ["tool_name"] = c.ToolName,
                ["tool_input"] = c.ToolInput?.DeepClone(),
                ["tool_output"] = c.ToolOutput?.DeepClone(),
                ["tool_status_code"] = c.ToolStatusCode?.DeepClone(),
            };
            if (c.Thought is not null)
            {
                data["thought"] = c.Thought?.DeepClone();
            }

            return Row(c.Current, n, "tool_call", data, c.Origin);
        }));
        rows.AddRange(NumberedPerSubtask(recording.PlanRefines, r => r.Current, (r, n) => Row(r.Current, n, "plan_refine", new JsonObject
        {
            ["refine_function_name"] = r.FunctionName,
            ["refine_function_input"] = r.FunctionInput?.DeepClone(),
            ["refine_function_output"] = r.FunctionOutput?.DeepClone(),
            ["plan_after"] = r.PlanAfter?.DeepClone(),
        }, r.Origin)));
        return rows;
    }

    /// <summary>XAgent numbers tool calls and plan refinements from 0 within each subtask.</summary>
    private static IEnumerable<NewRunningRecord> NumberedPerSubtask<T>(IEnumerable<T> records, Func<T, string> current, Func<T, long, NewRunningRecord> row)
    {
        var counters = new Dictionary<string, long>();
        foreach (var record in records)
        {
            var n = counters.GetValueOrDefault(current(record));
            counters[current(record)] = n + 1;
            yield return row(record, n);
        }
    }

    private static NewRunningRecord Row(string? current, long nodeId, string nodeType, JsonNode? data, XAgentOrigin origin) =>
        new(current, nodeId.ToString(CultureInfo.InvariantCulture), nodeType, data, origin.Time ?? DateTimeOffset.UnixEpoch);
}
