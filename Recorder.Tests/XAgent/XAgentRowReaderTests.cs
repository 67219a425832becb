using System.Text.Json.Nodes;
using Recorder.XAgent;
using Recorder.XAgent.Rows;

namespace Recorder.Tests.XAgent;

public sealed class XAgentRowReaderTests
{
    private static readonly DateTimeOffset Time = new(2024, 3, 18, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RowsAreReadInIdOrderWithTheirLabelsAndTimes()
    {
        var rows = ReplayFixtures.MultiSubtaskRows();

        var recording = XAgentRowReader.Read(rows.Reverse());

        var firstTool = rows.First(r => r.NodeType == "tool_call");
        Assert.Equal($"running_record row {firstTool.Id}", recording.ToolCalls[0].Origin.Source);
        Assert.Equal(firstTool.CreateTime, recording.ToolCalls[0].Origin.Time);
        Assert.Equal(["1.1", "1.1", "1.1", "1.2", "1.2", "1.3", "1.3"], recording.ToolCalls.Select(c => c.Current));
        Assert.Equal(12, recording.LlmCalls.Count);
        Assert.Contains("max_subtask_chain_length", recording.Config!.Text, StringComparison.Ordinal);
        Assert.Empty(recording.Workspace);
    }

    [Fact]
    public void ToolCallRowWhoseDataIsNotAnObjectIsReportedByItsId()
    {
        var rows = new[] { Query(1), Row(7, "tool_call", "1.1", JsonNode.Parse("[1, 2]")) };

        var error = Assert.Throws<RecordingFormatException>(() => XAgentRowReader.Read(rows));

        Assert.Equal("running_record row 7: tool call data is not a JSON object", error.Message);
    }

    [Fact]
    public void ToolCallRowWithoutSubtaskIdIsReported()
    {
        var rows = new[] { Query(1), Row(2, "tool_call", null, JsonNode.Parse("""{"tool_name": "x"}""")) };

        var error = Assert.Throws<RecordingFormatException>(() => XAgentRowReader.Read(rows));

        Assert.StartsWith("running_record row 2:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownNodeTypeIsReported()
    {
        var error = Assert.Throws<RecordingFormatException>(() => XAgentRowReader.Read([Query(1), Row(3, "now_subtask_id", null, null)]));

        Assert.Equal("running_record row 3: unknown node_type 'now_subtask_id'", error.Message);
    }

    [Fact]
    public void MissingQueryRowIsReported()
    {
        var error = Assert.Throws<RecordingFormatException>(() => XAgentRowReader.Read([]));

        Assert.Contains("no query row", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DoubleEncodedRowDataIsRead()
    {
        var data = JsonValue.Create("""{"tool_name": "subtask_submit", "tool_input": {}, "tool_output": "ok", "tool_status_code": "SUBMIT_AS_SUCCESS"}""");

        var recording = XAgentRowReader.Read([Query(1), Row(2, "tool_call", "1.1", data)]);

        Assert.Equal("subtask_submit", Assert.Single(recording.ToolCalls).ToolName);
    }

    [Fact]
    public void WrittenRowsReadBackToTheSameRecording()
    {
        var original = XAgentRowReader.Read(ReplayFixtures.MultiSubtaskRows());

        var written = XAgentRunningRecords.ToRows(original);
        var reread = XAgentRowReader.Read(written.Select((r, i) => new RunningRecordRow(i + 1, "copy", r.Current, r.NodeId, r.NodeType, r.Data, r.CreateTime)));

        Assert.Equal(original.ToolCalls.Select(c => (c.Current, c.ToolName, c.ToolOutput?.ToJsonString())), reread.ToolCalls.Select(c => (c.Current, c.ToolName, c.ToolOutput?.ToJsonString())));
        Assert.Equal(original.LlmCalls.Select(c => c.Output!.ToJsonString()), reread.LlmCalls.Select(c => c.Output!.ToJsonString()));
        Assert.Equal(original.PlanRefines.Select(r => r.PlanAfter!.ToJsonString()), reread.PlanRefines.Select(r => r.PlanAfter!.ToJsonString()));
        Assert.Equal((original.Query.RoleName, original.Query.Task), (reread.Query.RoleName, reread.Query.Task));
    }

    private static RunningRecordRow Query(long id) =>
        Row(id, "query", null, JsonNode.Parse("""{"role_name": "Tester", "task": "test", "plan": []}"""));

    private static RunningRecordRow Row(long id, string type, string? current, JsonNode? data) =>
        new(id, "r1", current, "0", type, data, Time.AddSeconds(id));
}
