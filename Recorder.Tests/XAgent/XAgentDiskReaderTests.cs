using Recorder.XAgent;
using Recorder.XAgent.Disk;


namespace Recorder.Tests.XAgent;

public sealed class XAgentDiskReaderTests
{
    [Fact]
    public async Task MultiSubtaskRecordingIsReadInNumericOrder()
    {
        var recording = await ReplayFixtures.ReadAsync("multi_subtask");

        Assert.Equal("Data Analyst", recording.Query.RoleName);
        Assert.Equal("query.json", recording.Query.Origin.Source);
        Assert.Contains("max_subtask_chain_length: 15", recording.Config!.Text, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(0, 12).Select(n => $"LLM_inout_pair/{n:00000}.json"), recording.LlmCalls.Select(c => c.Origin.Source));
        Assert.Equal(7, recording.ToolServerCalls.Count);
        Assert.Equal(
            ["1.1/tool_00000.json", "1.1/tool_00001.json", "1.1/tool_00002.json", "1.2/tool_00000.json", "1.2/tool_00001.json", "1.3/tool_00000.json", "1.3/tool_00001.json"],
            recording.ToolCalls.Select(c => c.Origin.Source));
        Assert.Equal(["1.1", "1.1", "1.1", "1.2", "1.2", "1.3", "1.3"], recording.ToolCalls.Select(c => c.Current));
        Assert.Equal("1.1/plan_refine_00000.json", Assert.Single(recording.PlanRefines).Origin.Source);
        Assert.All(recording.ToolCalls, c => Assert.NotNull(c.Origin.Time));
    }

    [Fact]
    public async Task ConfigIsOptional()
    {
        var recording = await ReplayFixtures.ReadAsync("no_plan");

        Assert.Null(recording.Config);
        Assert.Empty(recording.Workspace);
    }

    [Fact]
    public async Task WorkspaceFilesAreReturnedWithRelativeNamesAndTheirBytes()
    {
        var recording = await ReplayFixtures.ReadAsync("multi_subtask");
        var folder = Path.Combine(ReplayFixtures.Folder("multi_subtask"), "workspace");

        Assert.Equal(["notes.txt", "plot.png", "report.md", "sales.csv"], recording.Workspace.Select(f => f.Name));
        var plot = recording.Workspace.Single(f => f.Name == "plot.png").Content;
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(folder, "plot.png")), plot);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], plot.Take(4));
    }

    [Fact]
    public async Task NestedWorkspaceFilesUseForwardSlashes()
    {
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        Directory.CreateDirectory(Path.Combine(temp.Path, "workspace", "out", "charts"));
        await File.WriteAllTextAsync(Path.Combine(temp.Path, "workspace", "out", "charts", "a.txt"), "a");

        var recording = await XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None);

        Assert.Equal("out/charts/a.txt", Assert.Single(recording.Workspace).Name);
    }

    [Fact]
    public async Task BrokenToolFileIsReportedByItsRelativePath()
    {
        var error = await Assert.ThrowsAsync<RecordingFormatException>(() => ReplayFixtures.ReadAsync("broken_tool"));

        Assert.StartsWith("1.1/tool_00001.json: not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToolRecordThatIsNotAnObjectIsReportedByItsRelativePath()
    {
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        await File.WriteAllTextAsync(Path.Combine(temp.Path, "1.2", "tool_00001.json"), "[1, 2]");

        var error = await Assert.ThrowsAsync<RecordingFormatException>(() => XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None));

        Assert.Equal("1.2/tool_00001.json: tool call data is not a JSON object", error.Message);
    }

    [Fact]
    public async Task MissingQueryIsReported()
    {
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        File.Delete(Path.Combine(temp.Path, "query.json"));

        var error = await Assert.ThrowsAsync<RecordingFormatException>(() => XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None));

        Assert.Equal("query.json: missing", error.Message);
    }

    [Fact]
    public async Task UnexpectedFileInASubtaskFolderIsReported()
    {
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        await File.WriteAllTextAsync(Path.Combine(temp.Path, "1.1", "notes.json"), "{}");

        var error = await Assert.ThrowsAsync<RecordingFormatException>(() => XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None));

        Assert.StartsWith("1.1/notes.json:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubtaskFoldersAreOrderedByTheirDottedNumbers()
    {
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        foreach (var id in new[] { "1.10", "1.2.1", "1.9" })
        {
            Directory.CreateDirectory(Path.Combine(temp.Path, id));
            File.Copy(Path.Combine(temp.Path, "1.1", "tool_00000.json"), Path.Combine(temp.Path, id, "tool_00000.json"));
        }

        File.Copy(Path.Combine(temp.Path, "1.1", "tool_00000.json"), Path.Combine(temp.Path, "1.1", "tool_00010.json"));
        File.Copy(Path.Combine(temp.Path, "1.1", "tool_00000.json"), Path.Combine(temp.Path, "1.1", "tool_00002.json"));

        var recording = await XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None);

        Assert.Equal(
            ["1.1/tool_00000.json", "1.1/tool_00001.json", "1.1/tool_00002.json", "1.1/tool_00010.json", "1.2/tool_00000.json", "1.2/tool_00001.json",
             "1.2.1/tool_00000.json", "1.9/tool_00000.json", "1.10/tool_00000.json"],
            recording.ToolCalls.Select(c => c.Origin.Source));
    }

    [Fact]
    public async Task SymlinkedFilePointingOutsideIsRefused()
    {
        using var outside = new TempFolder();
        var secret = Path.Combine(outside.Path, "secret.txt");
        await File.WriteAllTextAsync(secret, "secret");
        using var temp = ReplayFixtures.CopyToTemp("multi_subtask");
        File.CreateSymbolicLink(Path.Combine(temp.Path, "workspace", "leak.txt"), secret);

        var error = await Assert.ThrowsAsync<RecordingFormatException>(() => XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None));

        Assert.Equal("workspace/leak.txt: symbolic link points outside the recording folder; refused", error.Message);
    }

    [Fact]
    public async Task SymlinkedFolderPointingOutsideIsRefused()
    {
        using var outside = new TempFolder();
        await File.WriteAllTextAsync(Path.Combine(outside.Path, "tool_00000.json"), "{}");
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        Directory.CreateSymbolicLink(Path.Combine(temp.Path, "1.3"), outside.Path);

        var error = await Assert.ThrowsAsync<RecordingFormatException>(() => XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None));

        Assert.StartsWith("1.3: symbolic link points outside", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RelativeSymlinkEscapingThroughParentFoldersIsRefused()
    {
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        File.Delete(Path.Combine(temp.Path, "query.json"));
        File.CreateSymbolicLink(Path.Combine(temp.Path, "query.json"), "../../../../../../../../etc/hostname");

        var error = await Assert.ThrowsAsync<RecordingFormatException>(() => XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None));

        Assert.Contains("points outside", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SymlinkToItsOwnParentFolderIsRefused()
    {
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        Directory.CreateSymbolicLink(Path.Combine(temp.Path, "workspace"), ".");

        var error = await Assert.ThrowsAsync<RecordingFormatException>(() => XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None));

        Assert.StartsWith("workspace: symbolic link points at one of its own parent folders", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SymlinkFanOutIsCutOffAtTheEntryLimitInsteadOfWalkingTwoToTheNPaths()
    {
        // workspace/d0 holds two links to d1, d1 two links to d2, ...: 2^20 paths from 21 folders.
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        var workspace = Path.Combine(temp.Path, "workspace");
        Directory.CreateDirectory(workspace);
        const int Levels = 20;
        for (var level = Levels; level >= 0; level--)
        {
            var folder = Path.Combine(workspace, $"d{level}");
            Directory.CreateDirectory(folder);
            if (level == Levels)
            {
                await File.WriteAllTextAsync(Path.Combine(folder, "leaf.txt"), "x");
                continue;
            }

            Directory.CreateSymbolicLink(Path.Combine(folder, "a"), Path.Combine(workspace, $"d{level + 1}"));
            Directory.CreateSymbolicLink(Path.Combine(folder, "b"), Path.Combine(workspace, $"d{level + 1}"));
        }

        var error = await Assert.ThrowsAsync<RecordingFormatException>(() => XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None));

        Assert.Equal($"the recording holds more than {RecordingFolderWalker.MaxEntries} files and folders (counting each path a symbolic link adds); refused", error.Message);
    }

    [Fact]
    public async Task ANamedPipeInARecordingIsNeverOpened()
    {
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        Directory.CreateDirectory(Path.Combine(temp.Path, "workspace"));
        MakeFifo(Path.Combine(temp.Path, "workspace", "pipe.txt"));

        // As a workspace file it is an empty one; reading does not wait for a writer that never comes.
        var recording = await XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(recording.Workspace.Single(f => f.Name == "pipe.txt").Content);

        // As a record it is refused, naming it.
        File.Delete(Path.Combine(temp.Path, "LLM_inout_pair", "00001.json"));
        MakeFifo(Path.Combine(temp.Path, "LLM_inout_pair", "00001.json"));
        var error = await Assert.ThrowsAsync<RecordingFormatException>(
            () => XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.StartsWith("LLM_inout_pair/00001.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("is empty (or not a regular file): not valid JSON", error.Message, StringComparison.Ordinal);
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]);
        Assert.True(mkfifo.WaitForExit(TimeSpan.FromSeconds(10)) && mkfifo.ExitCode == 0, $"mkfifo {path} failed");
    }

    [Fact]
    public async Task SymlinkInsideTheFolderIsFollowed()
    {
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        Directory.CreateDirectory(Path.Combine(temp.Path, "workspace"));
        File.CreateSymbolicLink(Path.Combine(temp.Path, "workspace", "query-copy.json"), Path.Combine("..", "query.json"));

        var recording = await XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None);

        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(temp.Path, "query.json")), Assert.Single(recording.Workspace).Content);
    }

    [Fact]
    public async Task AFileLargerThanTheCapIsRefusedNamingIt()
    {
        using var temp = ReplayFixtures.CopyToTemp("no_plan");
        Directory.CreateDirectory(Path.Combine(temp.Path, "workspace"));
        await using (var huge = File.Create(Path.Combine(temp.Path, "workspace", "huge.bin")))
        {
            huge.SetLength(XAgentDiskReader.MaxFileBytes + 1); // sparse: nothing is written
        }

        var error = await Assert.ThrowsAsync<RecordingFormatException>(() => XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None));
        Assert.StartsWith("workspace/huge.bin: larger than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASymbolicLinkLoopIsRefusedWithoutNamingAnyServerPath()
    {
        using var temp = ReplayFixtures.CopyToTemp("multi_subtask");
        var workspace = Path.Combine(temp.Path, "workspace");
        File.CreateSymbolicLink(Path.Combine(workspace, "a.txt"), "b.txt");
        File.CreateSymbolicLink(Path.Combine(workspace, "b.txt"), "a.txt");

        var error = await Assert.ThrowsAsync<RecordingFormatException>(() => XAgentDiskReader.ReadAsync(temp.Path, CancellationToken.None));

        Assert.Equal("workspace/a.txt: symbolic link cannot be resolved (too many levels of symbolic links)", error.Message);
        Assert.IsAssignableFrom<IOException>(error.InnerException); // the log keeps the details
    }

    [Fact]
    public async Task AMissingFolderIsReportedByItsNameOnly()
    {
        var name = "no-such-recording-" + Guid.NewGuid().ToString("N");
        var error = await Assert.ThrowsAsync<RecordingFormatException>(
            () => XAgentDiskReader.ReadAsync(Path.Combine(Path.GetTempPath(), name), CancellationToken.None));

        Assert.StartsWith($"recording folder '{name}' does not exist", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetTempPath(), error.Message, StringComparison.Ordinal);
    }
}
