using System.Text.Json;
using System.Text.Json.Nodes;
using Recorder.Data.Json;
using Recorder.XAgent;
using Recorder.XAgent.Json;
using Recorder.XAgent.Replay;

namespace Recorder.Tests.XAgent;

/// <summary>One depth limit wherever a tree enters: a recording past it fails naming its record and the limit.</summary>
public sealed class JsonDepthLimitTests
{
    private static string Nested(int levels, string inner = "\"m\"") =>
        string.Concat(Enumerable.Repeat("[", levels)) + inner + string.Concat(Enumerable.Repeat("]", levels));

    private static string Plan(string milestone) =>
        $$"""{"subtasks": [{"subtask name": "Read", "goal": {"goal": "g", "criticism": "c"}, "milestones": [{{milestone}}]}]}""";

    [Theory]
    [InlineData(1)]
    [InlineData(JsonLimits.MaxDepth)]
    [InlineData(JsonLimits.MaxDepth + 1)]
    public void DepthOfCountsAsTheParserDoes(int levels)
    {
        var text = Nested(levels);
        Assert.Equal(levels, JsonDepth.DepthOf(JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 1000 })));
        if (levels <= JsonLimits.MaxDepth)
        {
            Assert.Equal(levels, JsonDepth.DepthOf(JsonLimits.ParseNode(text)));
        }
        else
        {
            var error = Assert.Throws<JsonException>(() => JsonLimits.ParseNode(text));
            Assert.StartsWith($"nested deeper than {JsonLimits.MaxDepth} levels", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void LenientJsonStopsAtTheSameLimit()
    {
        Assert.True(LenientJson.TryParse("{a: " + Nested(JsonLimits.MaxDepth - 1) + "}", out _, out var error), error);

        Assert.False(LenientJson.TryParse("{a: " + Nested(JsonLimits.MaxDepth) + "}", out _, out error));
        Assert.Contains($"nested deeper than {JsonLimits.MaxDepth} levels", error, StringComparison.Ordinal);
    }

    [Fact]
    public void APlanMilestoneNestedAHundredLevelsFailsTheRecordingNamingTheFileAndTheLimit()
    {
        var recording = new RecordingBuilder()
            .Llm("subtask_split_operation", Plan(Nested(100)))
            .Tool("1.1", "FileSystemEnv_read_from_file").Submit("1.1")
            .Build();

        var error = Assert.Throws<RecordingFormatException>(() => XAgentReplayMapper.Map(recording));

        Assert.StartsWith("LLM_inout_pair/00000.json: arguments of the subtask_split_operation call cannot be parsed", error.Message, StringComparison.Ordinal);
        Assert.Contains($"nested deeper than {JsonLimits.MaxDepth} levels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AToolCallWithinTheLimitWhoseRawWouldBeTooDeepNamesItsFileAndTheLimit()
    {
        // A tool file of 60 levels reads; its inner raw puts tool_output one level further down (using_tools).
        var output = JsonLimits.ParseNode(Nested(JsonLimits.MaxDepth - 1));
        Assert.Equal(JsonLimits.MaxDepth, JsonDepth.DepthOf(new JsonObject { ["tool_output"] = output!.DeepClone() }));
        var recording = new RecordingBuilder()
            .Tool("1.1", "FileSystemEnv_read_from_file", output: output)
            .Submit("1.1")
            .Build();

        var error = Assert.Throws<RecordingFormatException>(() => XAgentReplayMapper.Map(recording));

        Assert.Equal($"1.1/tool_00000.json: its 'inner' raw would nest {JsonLimits.MaxDepth + 1} levels deep, deeper than the limit of {JsonLimits.MaxDepth} levels for a raw's data",
            error.Message);
    }

    [Fact]
    public void ARecordingJustWithinTheLimitMapsWithEveryRawWithinIt()
    {
        var recording = new RecordingBuilder()
            .Tool("1.1", "FileSystemEnv_read_from_file", output: JsonNode.Parse(Nested(JsonLimits.MaxDepth - 10)))
            .Submit("1.1")
            .Build();

        var steps = XAgentReplayMapper.Map(recording);

        Assert.All(steps, s => Assert.InRange(JsonDepth.DepthOf(s.Data), 0, JsonLimits.MaxDepth));
        Assert.Contains(steps, s => JsonDepth.DepthOf(s.Data) > JsonLimits.MaxDepth - 10);
    }

    [Fact]
    public void ARawTooDeepToWriteFailsWhereItIsMadeNotInTheSharedWriter()
    {
        var within = new Recorder.Data.Raws.RawAppend("i", 1, "n", "inner", null, JsonLimits.ParseNode(Nested(JsonLimits.MaxDepth)), false, false, null, null);
        Assert.Equal(Nested(JsonLimits.MaxDepth), within.DataJson);

        var deeper = JsonNode.Parse(Nested(JsonLimits.MaxDepth + 1), documentOptions: new JsonDocumentOptions { MaxDepth = 1000 });
        var error = Assert.ThrowsAny<Exception>(() => new Recorder.Data.Raws.RawAppend("i", 1, "n", "inner", null, deeper, false, false, null, null));
        Assert.Contains($"{JsonLimits.MaxDepth}", error.Message, StringComparison.Ordinal);
    }
}
