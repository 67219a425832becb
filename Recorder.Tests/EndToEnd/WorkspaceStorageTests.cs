using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Data.Workspace;
using Recorder.Tests.Infrastructure;
using Xunit.Abstractions;
using Recorder.XAgent;

namespace Recorder.Tests.EndToEnd;

public sealed class WorkspaceStorageTests(HubServer server, ITestOutputHelper output) : TimedTest, IClassFixture<HubServer>
{
    private const int ExtraFiles = 8;
    private const int ExtraFileBytes = 1024 * 1024;

    /// <summary>multi_subtask with <see cref="ExtraFiles"/> random files of 1 MB more in its workspace, under a name of its own.</summary>
    private string NewBigRecording()
    {
        var name = $"big_{Guid.NewGuid():N}"[..12];
        var folder = Path.Combine(server.RecordingsRoot, name);
        HubServer.CopyDirectory(Path.Combine(server.RecordingsRoot, "multi_subtask"), folder);
        for (var i = 0; i < ExtraFiles; i++)
        {
            File.WriteAllBytes(Path.Combine(folder, "workspace", $"data_{i}.bin"), RandomNumberGenerator.GetBytes(ExtraFileBytes));
        }

        return name;
    }

    private Task<(long Contents, long Bytes, long TableBytes)> ContentsAsync() =>
        server.QueryAsync<(long, long, long)>(
            "SELECT count(*), COALESCE(sum(size), 0)::bigint, pg_total_relation_size('workspace_contents') FROM workspace_contents")
            .ContinueWith(t => t.Result.Single(), TaskScheduler.Default);

    private async Task<(List<RecorderEnvelope> Messages, TimeSpan Took, string InteractionId)> ReplayAsync(string recording)
    {
        var (user, token) = await server.NewUserAsync();
        var started = Stopwatch.GetTimestamp();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, recording), Ct);
        var messages = await Replays.RunToEndAsync(client);
        return (messages, Stopwatch.GetElapsedTime(started), client.InteractionId);
    }

    [Fact]
    public async Task ASecondReplayOfARecordingStoresNoFileBytesAndStillInlinesItsPictures()
    {
        var recording = NewBigRecording();
        var workspaceFolder = Path.Combine(server.RecordingsRoot, recording, "workspace");
        var files = Directory.GetFiles(workspaceFolder).Length;
        await ReplayAsync("multi_subtask"); // warm: the first replay of a class pays for the hub's start
        var before = await ContentsAsync();

        var (first, firstTook, firstId) = await ReplayAsync(recording);
        var afterFirst = await ContentsAsync();
        var (second, secondTook, secondId) = await ReplayAsync(recording);
        var afterSecond = await ContentsAsync();

        Assert.Equal("finished", first[^1].Status);
        Assert.Equal("finished", second[^1].Status);
        Assert.InRange(afterFirst.Bytes - before.Bytes, ExtraFiles * (long)ExtraFileBytes, long.MaxValue);
        Assert.Equal(afterFirst.Contents, afterSecond.Contents);
        Assert.Equal(afterFirst.Bytes, afterSecond.Bytes);
        Assert.Equal(files, second[^1].WorkspaceFileList!.Count);
        Assert.Equal(first[^1].WorkspaceFileList!.Select(f => f.Name), second[^1].WorkspaceFileList!.Select(f => f.Name));

        // The second replay's pictures come from the contents the first one stored.
        var picture = Convert.ToBase64String(await File.ReadAllBytesAsync(Path.Combine(workspaceFolder, "plot.png")));
        Assert.Contains(second, m => m.Data is { ValueKind: JsonValueKind.Object } d && d.GetRawText().Contains(picture, StringComparison.Ordinal));

        // The store itself, as a run makes it, of the same workspace: first with new contents, then with all of them stored.
        var workspace = new WorkspaceRepository(server.Database.DataSource);
        var contents = Directory.GetFiles(workspaceFolder).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
        var fresh = contents.Select(f => new WorkspaceFile(f.Item1, RandomNumberGenerator.GetBytes(f.Item2.Length))).ToList();
        var timer = Stopwatch.StartNew();
        var newWrite = await workspace.StoreAsync(firstId, fresh, Ct);
        var newTook = timer.Elapsed;
        timer.Restart();
        var againWrite = await workspace.StoreAsync(secondId, fresh, Ct);
        var againTook = timer.Elapsed;
        Assert.Equal(0, againWrite.BytesSent);
        Assert.Equal(newWrite.Files, againWrite.Files);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            workspace: {files} files, {afterFirst.Bytes - before.Bytes} bytes of new contents
            replay 1: {firstTook.TotalMilliseconds:0} ms, workspace_contents +{afterFirst.TableBytes - before.TableBytes} bytes on disk
            replay 2: {secondTook.TotalMilliseconds:0} ms, workspace_contents +{afterSecond.TableBytes - afterFirst.TableBytes} bytes on disk, +{afterSecond.Bytes - afterFirst.Bytes} bytes of contents
            store of {newWrite.Files} files with new contents: {newWrite.BytesSent} bytes sent, {newTook.TotalMilliseconds:0.0} ms
            store of the same files again: {againWrite.BytesSent} bytes sent, {againTook.TotalMilliseconds:0.0} ms
            """));
    }
}
