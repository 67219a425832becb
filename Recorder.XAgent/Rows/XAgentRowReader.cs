using System.Text.Json.Nodes;

namespace Recorder.XAgent.Rows;

/// <summary>Reads an XAgent recording from the rows of its <c>running_record</c> table, in row id order.</summary>
public static class XAgentRowReader
{
    public static XAgentRecording Read(IEnumerable<RunningRecordRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);

        XAgentQuery? query = null;
        XAgentConfig? config = null;
        var llm = new List<XAgentLlmCall>();
        var toolServer = new List<XAgentToolServerCall>();
        var tools = new List<XAgentToolCall>();
        var refines = new List<XAgentPlanRefine>();
        string? recordId = null;

        foreach (var row in rows.OrderBy(r => r.Id))
        {
            var origin = new XAgentOrigin($"running_record row {row.Id}", row.CreateTime);
            recordId ??= row.RecordId;
            if (row.RecordId != recordId)
            {
                throw XAgentRecordParser.Error(origin, $"belongs to record '{row.RecordId}', not '{recordId}'");
            }

            switch (row.NodeType)
            {
                case "query":
                    query ??= XAgentRecordParser.Query(row.Data, origin);
                    break;
                case "config":
                    config ??= new XAgentConfig(ConfigText(row.Data), origin);
                    break;
                case "llm_input_pair":
                    llm.Add(XAgentRecordParser.LlmCall(row.Data, Blank(row.Current) ? null : row.Current, origin));
                    break;
                case "tool_server_pair":
                    toolServer.Add(XAgentRecordParser.ToolServerCall(row.Data, origin));
                    break;
                case "tool_call":
                    tools.Add(XAgentRecordParser.ToolCall(row.Data, SubtaskOf(row, origin), origin));
                    break;
                case "plan_refine":
                    refines.Add(XAgentRecordParser.PlanRefine(row.Data, SubtaskOf(row, origin), origin));
                    break;
                default:
                    throw XAgentRecordParser.Error(origin, $"unknown node_type '{row.NodeType}'");
            }
        }

        return new XAgentRecording(
            query ?? throw new RecordingFormatException("running_record: the recording has no query row"),
            config, llm, toolServer, tools, refines, []);
    }

    private static string SubtaskOf(RunningRecordRow row, XAgentOrigin origin) =>
        Blank(row.Current) ? throw XAgentRecordParser.Error(origin, $"{row.NodeType} row has no current (subtask id)") : row.Current!;

    private static string ConfigText(JsonNode? data) =>
        data is JsonValue value && value.TryGetValue<string>(out var text) ? text : data?.ToJsonString() ?? "";

    private static bool Blank(string? text) => string.IsNullOrWhiteSpace(text);
}
