using System.Runtime.CompilerServices;
using Recorder.Hub.Delivery;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;

namespace Recorder.Tests.XAgent;

/// <summary>The demo recording shipped in deploy/demo must stay replayable.</summary>
public sealed class DemoRecordingTests
{
    [Fact]
    public async Task DemoRecordingReplaysTwoSubtasksWithItsPicture()
    {
        var recording = await XAgentDiskReader.ReadAsync(DemoFolder(), CancellationToken.None);

        var steps = XAgentReplayMapper.Map(recording);

        Assert.Equal(
            ["start", "inner", "inner", "subtask_submit", "refinement", "subtask", "inner", "subtask_submit", "refinement"],
            steps.Select(s => s.Status));
        var notebook = Assert.Single(steps, s => s.IncludePictures);
        var pictures = RawDataProcessor.PictureNames(notebook.Data, notebook.IncludePictures);
        Assert.Equal(["temperature.png"], pictures);
        var files = recording.Workspace.ToDictionary(f => f.Name, f => InlinePicture.Of(f.Content));
        var processed = RawDataProcessor.Process(notebook.Data, true, files)!;
        Assert.Equal(files["temperature.png"].Base64, processed["using_tools"]!["tool_output"]![2]!["file_data"]!.GetValue<string>());
        Assert.Contains("北京", steps[0].Data!["goal"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static string DemoFolder([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "deploy", "demo", "recordings", "demo"));
}
