using System.Text.Json.Nodes;
using Recorder.XAgent;
using Recorder.XAgent.Replay;

namespace Recorder.Tests.XAgent;

public sealed class XAgentReplayMapperEdgeTests
{
    private const string Json5Plan = """
        // the model answered in JSON5
        {
          thought: 'two steps',
          subtasks: [
            {'subtask name': 'Read', goal: {goal: "read it", criticism: 'none',}, milestones: ['file read',],},
            {"subtask name": 'Write', /* second */ goal: {goal: 'write it', criticism: 'none'}, milestones: [],},
          ],
        }
        """;

    [Fact]
    public void Json5PlanArgumentsAreReadLeniently()
    {
        var recording = new RecordingBuilder()
            .Llm("subtask_split_operation", Json5Plan)
            .Tool("1.1", "FileSystemEnv_read_from_file").Submit("1.1")
            .Tool("1.2", "FileSystemEnv_write_to_file").Submit("1.2")
            .Build();

        var start = XAgentReplayMapper.Map(recording)[0].Data!;

        Assert.Equal(["Read", "Write"], start["subtasks"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()));
        Assert.Equal("read it", start["subtasks"]![0]!["goal"]!.GetValue<string>());
        Assert.Equal(["file read"], start["subtasks"]![0]!["milestones"]!.AsArray().Select(m => m!.GetValue<string>()));
    }

    [Fact]
    public void UnreadablePlanArgumentsAreReportedWithTheirRecord()
    {
        var recording = new RecordingBuilder()
            .Llm("subtask_split_operation", "{subtasks: [{'subtask name': 'Read'")
            .Tool("1.1", "FileSystemEnv_read_from_file").Submit("1.1")
            .Build();

        var error = Assert.Throws<RecordingFormatException>(() => XAgentReplayMapper.Map(recording));

        Assert.StartsWith("LLM_inout_pair/00000.json:", error.Message, StringComparison.Ordinal);
        Assert.Contains("subtask_split_operation", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnreadablePlanRepairedByALaterCallUsesTheRepair()
    {
        var recording = new RecordingBuilder()
            .Llm("subtask_split_operation", "{subtasks: [{'subtask name': 'Read'")
            .Llm("subtask_split_operation", "{'subtasks': [{'subtask name': 'Repaired', 'goal': {'goal': 'g', 'criticism': 'c'}, 'milestones': []}]}")
            .Tool("1.1", "FileSystemEnv_read_from_file").Submit("1.1")
            .Build();

        var start = XAgentReplayMapper.Map(recording)[0].Data!;

        Assert.Equal("Repaired", start["subtasks"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void ARefinedPlanChangesTheRemainingSubtasks()
    {
        var planAfter = JsonNode.Parse("""
            {"name": "act as Tester", "goal": "test", "task_id": "1", "subtask": [
              {"name": "First", "goal": "g1", "prior_plan_criticsim": "", "milestones": [], "exceute_status": "SUCCESS", "action_list_summary": "did the first", "task_id": "1.1"},
              {"name": "Inserted", "goal": "g2", "prior_plan_criticsim": "added", "milestones": ["m"], "exceute_status": "TODO", "task_id": "1.2"},
              {"name": "Last", "goal": "g3", "prior_plan_criticsim": "", "milestones": [], "exceute_status": "TODO", "task_id": "1.3"}]}
            """)!;
        var recording = new RecordingBuilder()
            .Llm("subtask_split_operation", """{"subtasks": [{"subtask name": "First", "goal": {"goal": "g1", "criticism": ""}, "milestones": []}, {"subtask name": "Last", "goal": {"goal": "g3", "criticism": ""}, "milestones": []}]}""")
            .Tool("1.1", "FileSystemEnv_read_from_file").Submit("1.1", "first conclusion")
            .Refine("1.1", planAfter)
            .Tool("1.2", "FileSystemEnv_read_from_file").Submit("1.2")
            .Tool("1.3", "FileSystemEnv_read_from_file").Submit("1.3")
            .Build();

        var steps = XAgentReplayMapper.Map(recording);

        Assert.Equal(2, steps[0].Data!["subtasks"]!.AsArray().Count);
        var afterFirst = steps.First(s => s.Status == "subtask");
        Assert.Equal("1.2", afterFirst.Current);
        Assert.Equal(["Inserted", "Last"], afterFirst.Data!.AsArray().Select(s => s!["name"]!.GetValue<string>()));
        Assert.Equal("did the first", steps.First(s => s.Status == "refinement").Data!["action_list_summary"]!.GetValue<string>());
        Assert.Equal("added", steps.Where(s => s.Status == "refinement").ElementAt(1).Data!["prior_plan_criticism"]!.GetValue<string>());
    }

    [Fact]
    public void PosteriorCallsAreMatchedBySubtaskWhenRecordedWithOne()
    {
        // XAgent 1.0 sends the posterior step as a "reasoning" call; rows know which subtask it belongs to.
        var recording = new RecordingBuilder()
            .Tool("1.1", "FileSystemEnv_read_from_file").Submit("1.1", "conclusion one")
            .Tool("1.2", "FileSystemEnv_read_from_file").Submit("1.2", "conclusion two")
            .Llm("reasoning", """{"summary": "summary of 1.2", "reflection_of_plan": ["p"], "reflection_of_tool": []}""", current: "1.2")
            .Build();

        var refinements = XAgentReplayMapper.Map(recording).Where(s => s.Status == "refinement").Select(s => s.Data!).ToList();

        Assert.Equal("conclusion one", refinements[0]["action_list_summary"]!.GetValue<string>());
        Assert.Empty(refinements[0]["posterior_plan_reflection"]!.AsArray());
        Assert.Equal("summary of 1.2", refinements[1]["action_list_summary"]!.GetValue<string>());
        Assert.Equal(["p"], refinements[1]["posterior_plan_reflection"]!.AsArray().Select(p => p!.GetValue<string>()));
    }

    [Fact]
    public void UnreadablePosteriorArgumentsAreReportedWithTheirRecord()
    {
        var recording = new RecordingBuilder()
            .Tool("1.1", "FileSystemEnv_read_from_file").Submit("1.1")
            .Llm("generate_posterior_knowledge", "{summary: ")
            .Build();

        var error = Assert.Throws<RecordingFormatException>(() => XAgentReplayMapper.Map(recording));

        Assert.StartsWith("LLM_inout_pair/00000.json:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARecordingWithoutToolCallsOnlyStarts()
    {
        var steps = XAgentReplayMapper.Map(new RecordingBuilder().Build());

        var start = Assert.Single(steps);
        Assert.Equal("start", start.Status);
        Assert.Empty(start.Data!["subtasks"]!.AsArray());
    }

    [Fact]
    public void MappingTwiceGivesEqualStepsAndLeavesTheRecordingUntouched()
    {
        var recording = new RecordingBuilder()
            .Llm("subtask_split_operation", Json5Plan)
            .Tool("1.1", "FileSystemEnv_read_from_file").Submit("1.1")
            .Build();

        var first = XAgentReplayMapper.Map(recording);
        var second = XAgentReplayMapper.Map(recording);

        Assert.Equal(first.Select(s => s.Data!["subtasks"]?.ToJsonString()), second.Select(s => s.Data!["subtasks"]?.ToJsonString()));
        Assert.Null(recording.ToolCalls[0].ToolInput!.Parent);
    }
}
