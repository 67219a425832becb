using System.Text.Json.Nodes;
using Recorder.XAgent.Replay;
using Recorder.XAgent.Rows;

namespace Recorder.Tests.XAgent;

public sealed class XAgentReplayMapperTests
{
    private static readonly string[] SubtaskFields = ["name", "goal", "prior_plan_criticsim", "milestones", "exceute_status", "task_id", "inner"];

    [Fact]
    public async Task MultiSubtaskRecordingMapsToStartInnerRefinementSubtaskInOrder()
    {
        var steps = await ReplayFixtures.MapAsync("multi_subtask");

        Assert.Equal(
            [
                ("start", "1"),
                ("inner", "1.1"), ("inner", "1.1"), ("subtask_submit", "1.1"), ("refinement", "1.1"), ("subtask", "1.2"),
                ("inner", "1.2"), ("subtask_submit", "1.2"), ("refinement", "1.2"), ("subtask", "1.3"),
                ("inner", "1.3"), ("subtask_submit", "1.3"), ("refinement", "1.3"),
            ],
            steps.Select(s => (s.Status, s.Current)));
    }

    [Fact]
    public async Task StartCarriesTheRootTaskAndThePlannedSubtasks()
    {
        var start = (await ReplayFixtures.MapAsync("multi_subtask"))[0].Data!.AsObject();
        var planned = ReplayFixtures.LlmArguments("multi_subtask", 0)["subtasks"]!.AsArray();

        Assert.Equal("1", start["task_id"]!.GetValue<string>());
        Assert.Equal("act as Data Analyst", start["name"]!.GetValue<string>());
        Assert.Equal(ReplayFixtures.File("multi_subtask", "query.json")["task"]!.GetValue<string>(), start["goal"]!.GetValue<string>());
        Assert.Equal("", start["handler"]!.GetValue<string>());
        Assert.Equal("", start["tool_budget"]!.GetValue<string>());

        var subtasks = start["subtasks"]!.AsArray();
        Assert.Equal(3, subtasks.Count);
        for (var i = 0; i < 3; i++)
        {
            var subtask = subtasks[i]!.AsObject();
            Assert.Equal(SubtaskFields, subtask.Select(p => p.Key));
            Assert.Equal($"1.{i + 1}", subtask["task_id"]!.GetValue<string>());
            Assert.Equal(planned[i]!["subtask name"]!.GetValue<string>(), subtask["name"]!.GetValue<string>());
            Assert.Equal(planned[i]!["goal"]!["goal"]!.GetValue<string>(), subtask["goal"]!.GetValue<string>());
            Assert.Equal(planned[i]!["goal"]!["criticism"]!.GetValue<string>(), subtask["prior_plan_criticsim"]!.GetValue<string>());
            Assert.True(JsonNode.DeepEquals(planned[i]!["milestones"], subtask["milestones"]));
            Assert.Equal("TODO", subtask["exceute_status"]!.GetValue<string>());
            Assert.Empty(subtask["inner"]!.AsArray());
        }
    }

    [Fact]
    public async Task InnerStepCarriesTheThoughtAndTheToolOfItsRecord()
    {
        var inner = (await ReplayFixtures.MapAsync("multi_subtask"))[1].Data!.AsObject();
        var record = ReplayFixtures.File("multi_subtask", "1.1/tool_00000.json");
        var thought = record["thought"]!["thought"]!["properties"]!;

        Assert.Equal(["thoughts", "reasoning", "plan", "criticism", "node_id", "using_tools"], inner.Select(p => p.Key));
        Assert.Equal(thought["thought"]!.GetValue<string>(), inner["thoughts"]!.GetValue<string>());
        Assert.Equal(thought["reasoning"]!.GetValue<string>(), inner["reasoning"]!.GetValue<string>());
        Assert.Equal("Read sales.csv\nThen describe the revenue column with pandas", inner["plan"]!.GetValue<string>());
        Assert.Equal(thought["criticism"]!.GetValue<string>(), inner["criticism"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{32}$", inner["node_id"]!.GetValue<string>());

        var tools = inner["using_tools"]!.AsObject();
        Assert.Equal(["tool_name", "tool_input", "tool_output", "tool_status_code", "thought_data"], tools.Select(p => p.Key));
        Assert.Equal("FileSystemEnv_read_from_file", tools["tool_name"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(record["tool_input"], tools["tool_input"]));
        Assert.True(JsonNode.DeepEquals(record["tool_output"], tools["tool_output"]));
        Assert.Equal("TOOL_CALL_SUCCESS", tools["tool_status_code"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(record["thought"], tools["thought_data"]));
    }

    [Fact]
    public async Task EveryStepGetsItsOwnNodeId()
    {
        var steps = await ReplayFixtures.MapAsync("multi_subtask");
        var ids = steps.Where(s => s.Status is "inner" or "subtask_submit").Select(s => s.Data!["node_id"]!.GetValue<string>())
            .Concat(steps.Where(s => s.Status == "subtask").SelectMany(s => s.Data!.AsArray().Select(e => e!["node_id"]!.GetValue<string>())))
            .ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task SubmitToolCallsGetTheSubtaskSubmitStatus()
    {
        var steps = await ReplayFixtures.MapAsync("multi_subtask");

        foreach (var step in steps.Where(s => s.Status is "inner" or "subtask_submit"))
        {
            var tool = step.Data!["using_tools"]!["tool_name"]!.GetValue<string>();
            Assert.Equal(tool == "subtask_submit" ? "subtask_submit" : "inner", step.Status);
        }

        Assert.Equal(3, steps.Count(s => s.Status == "subtask_submit"));
        Assert.Equal("SUBMIT_AS_SUCCESS", steps[3].Data!["using_tools"]!["tool_status_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task OnlyTheNotebookCallIncludesPictures()
    {
        var steps = await ReplayFixtures.MapAsync("multi_subtask");

        var withPictures = Assert.Single(steps, s => s.IncludePictures);
        Assert.Equal("PythonNotebook_execute_cell", withPictures.Data!["using_tools"]!["tool_name"]!.GetValue<string>());
        Assert.Equal("1.2", withPictures.Current);
    }

    [Fact]
    public async Task RefinementTakesTheSummaryAndReflectionsFromThePosteriorCall()
    {
        var refinements = (await ReplayFixtures.MapAsync("multi_subtask")).Where(s => s.Status == "refinement").ToList();
        var planned = ReplayFixtures.LlmArguments("multi_subtask", 0)["subtasks"]!.AsArray();
        int[] posteriorRecords = [4, 8, 11];

        Assert.Equal(3, refinements.Count);
        for (var i = 0; i < 3; i++)
        {
            var data = refinements[i].Data!.AsObject();
            var posterior = ReplayFixtures.LlmArguments("multi_subtask", posteriorRecords[i]);
            Assert.Equal(
                ["name", "goal", "prior_plan_criticism", "posterior_plan_reflection", "milestones", "tool_reflection", "action_list_summary", "task_id"],
                data.Select(p => p.Key));
            Assert.Equal($"1.{i + 1}", data["task_id"]!.GetValue<string>());
            Assert.Equal(planned[i]!["subtask name"]!.GetValue<string>(), data["name"]!.GetValue<string>());
            Assert.Equal(planned[i]!["goal"]!["goal"]!.GetValue<string>(), data["goal"]!.GetValue<string>());
            Assert.Equal(planned[i]!["goal"]!["criticism"]!.GetValue<string>(), data["prior_plan_criticism"]!.GetValue<string>());
            Assert.True(JsonNode.DeepEquals(planned[i]!["milestones"], data["milestones"]));
            Assert.Equal(posterior["summary"]!.GetValue<string>(), data["action_list_summary"]!.GetValue<string>());
            Assert.True(JsonNode.DeepEquals(posterior["reflection_of_plan"], data["posterior_plan_reflection"]));
            Assert.True(JsonNode.DeepEquals(posterior["reflection_of_tool"], data["tool_reflection"]));
        }
    }

    [Fact]
    public async Task SubtaskStepListsTheRemainingSubtasksFromTheNextOne()
    {
        var subtaskSteps = (await ReplayFixtures.MapAsync("multi_subtask")).Where(s => s.Status == "subtask").ToList();

        Assert.Equal(["1.2", "1.3"], subtaskSteps.Select(s => s.Current));
        Assert.Equal(["1.2", "1.3"], subtaskSteps[0].Data!.AsArray().Select(e => e!["task_id"]!.GetValue<string>()));
        Assert.Equal(["1.3"], subtaskSteps[1].Data!.AsArray().Select(e => e!["task_id"]!.GetValue<string>()));
        foreach (var entry in subtaskSteps.SelectMany(s => s.Data!.AsArray()).Select(e => e!.AsObject()))
        {
            Assert.Equal(["name", "goal", "prior_plan_criticsim", "milestones", "exceute_status", "task_id", "inner", "node_id"], entry.Select(p => p.Key));
            Assert.Equal("TODO", entry["exceute_status"]!.GetValue<string>());
            Assert.Empty(entry["inner"]!.AsArray());
            Assert.Matches("^[0-9a-f]{32}$", entry["node_id"]!.GetValue<string>());
        }

        Assert.Equal("Write the report", subtaskSteps[1].Data![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task NoPlanRecordingFallsBackToOneSubtaskPerCurrent()
    {
        var steps = await ReplayFixtures.MapAsync("no_plan");

        Assert.Equal(
            ["start", "inner", "subtask_submit", "refinement", "subtask", "inner", "subtask_submit", "refinement"],
            steps.Select(s => s.Status));
        var subtasks = steps[0].Data!["subtasks"]!.AsArray();
        Assert.Equal(["1.1", "1.2"], subtasks.Select(s => s!["task_id"]!.GetValue<string>()));
        Assert.Equal(["Population found"], subtasks[0]!["milestones"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("Saved the population to population.txt.", steps[7].Data!["action_list_summary"]!.GetValue<string>());
        Assert.Equal(["1.2"], steps[4].Data!.AsArray().Select(s => s!["task_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task RowRecordingMapsLikeTheDiskRecording()
    {
        var fromDisk = await ReplayFixtures.MapAsync("multi_subtask");
        var fromRows = XAgentReplayMapper.Map(XAgentRowReader.Read(ReplayFixtures.MultiSubtaskRows()));

        Assert.Equal(fromDisk.Count, fromRows.Count);
        for (var i = 0; i < fromDisk.Count; i++)
        {
            Assert.Equal((fromDisk[i].Status, fromDisk[i].Current, fromDisk[i].IncludePictures), (fromRows[i].Status, fromRows[i].Current, fromRows[i].IncludePictures));
            Assert.True(JsonNode.DeepEquals(WithoutNodeIds(fromDisk[i].Data), WithoutNodeIds(fromRows[i].Data)), $"step {i} ({fromDisk[i].Status}) differs");
        }
    }

    [Fact]
    public async Task StepsAreTimedByTheRecordsTheyComeFrom()
    {
        var rows = ReplayFixtures.MultiSubtaskRows();
        var steps = XAgentReplayMapper.Map(XAgentRowReader.Read(rows));
        DateTimeOffset TimeOf(string type, string? current, int nth) => rows.Where(r => r.NodeType == type && r.Current == current).ElementAt(nth).CreateTime;

        Assert.Equal(TimeOf("llm_input_pair", null, 0), steps[0].RecordedAt); // the plan
        Assert.Equal(TimeOf("tool_call", "1.1", 0), steps[1].RecordedAt);
        Assert.Equal(TimeOf("tool_call", "1.1", 2), steps[3].RecordedAt);
        Assert.Equal(TimeOf("llm_input_pair", "1.1", 3), steps[4].RecordedAt); // the posterior call
        Assert.Equal(TimeOf("plan_refine", "1.1", 0), steps[5].RecordedAt);
        Assert.All(steps, s => Assert.NotNull(s.RecordedAt));
        Assert.True(steps.Zip(steps.Skip(1)).All(p => p.First.RecordedAt <= p.Second.RecordedAt));
    }

    private static JsonNode? WithoutNodeIds(JsonNode? node)
    {
        var copy = node?.DeepClone();
        Strip(copy);
        return copy;

        static void Strip(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject obj:
                    obj.Remove("node_id");
                    foreach (var (_, value) in obj)
                    {
                        Strip(value);
                    }

                    break;
                case JsonArray array:
                    foreach (var item in array)
                    {
                        Strip(item);
                    }

                    break;
            }
        }
    }
}
