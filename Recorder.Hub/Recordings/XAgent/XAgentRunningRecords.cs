using System.Globalization;
using System.Text.Json.Nodes;
using Recorder.Data.Recordings;

namespace Recorder.Hub.Recordings.XAgent;

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
                ["plan"] = Copy(recording.Query.Plan),
            }, recording.Query.Origin),
        };
        if (recording.Config is { } config)
        {
            rows.Add(Row(null, 0, "config", JsonValue.Create(config.Text), config.Origin));
        }

        rows.AddRange(recording.LlmCalls.Select((c, i) => Row(c.Current, c.InterfaceId ?? i, "llm_input_pair", new JsonObject
        {
            ["input"] = Copy(c.Input),
            ["output"] = Copy(c.Output),
            ["llm_interface_id"] = c.InterfaceId ?? i,
        }, c.Origin)));
        rows.AddRange(recording.ToolServerCalls.Select((c, i) => Row(null, i, "tool_server_pair", new JsonObject
        {
            ["url"] = c.Url,
            ["payload"] = Copy(c.Payload),
            ["response_status_code"] = Copy(c.ResponseStatusCode),
            ["tool_output"] = Copy(c.ToolOutput),
        }, c.Origin)));
        rows.AddRange(NumberedPerSubtask(recording.ToolCalls, c => c.Current, (c, n) =>
        {
            var data = new JsonObject
            {
                ["tool_name"] = c.ToolName,
                ["tool_input"] = Copy(c.ToolInput),
                ["tool_output"] = Copy(c.ToolOutput),
                ["tool_status_code"] = Copy(c.ToolStatusCode),
            };
            if (c.Thought is not null)
            {
                data["thought"] = Copy(c.Thought);
            }

            return Row(c.Current, n, "tool_call", data, c.Origin);
        }));
        rows.AddRange(NumberedPerSubtask(recording.PlanRefines, r => r.Current, (r, n) => Row(r.Current, n, "plan_refine", new JsonObject
        {
            ["refine_function_name"] = r.FunctionName,
            ["refine_function_input"] = Copy(r.FunctionInput),
            ["refine_function_output"] = Copy(r.FunctionOutput),
            ["plan_after"] = Copy(r.PlanAfter),
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

    private static JsonNode? Copy(JsonNode? node) => node?.DeepClone();
}
