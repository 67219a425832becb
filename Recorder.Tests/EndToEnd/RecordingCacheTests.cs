using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// The hub keeps parsed recordings in memory for the runs that replay them; a recording changed since is read afresh,
/// whether it is a folder (a file added, removed or rewritten) or an import (the rows replaced).
/// </summary>
public sealed class RecordingCacheTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    [Fact]
    public async Task AFolderChangedBetweenTwoReplaysIsReadAfresh()
    {
        var name = $"cached_{Guid.NewGuid():N}";
        var folder = Path.Combine(server.RecordingsRoot, name);
        HubServer.CopyDirectory(Path.Combine(server.RecordingsRoot, "multi_subtask"), folder);

        var first = await ReplayAsync(name);
        Assert.Contains(new WorkspaceFileEntry("notes.txt", "txt"), first[^1].WorkspaceFileList!);

        // A workspace file removed and a subtask's last tool call removed: both show in the next replay.
        File.Delete(Path.Combine(folder, "workspace", "notes.txt"));
        var tools = Directory.GetFiles(Path.Combine(folder, "1.1"), "tool_*.json").Order(StringComparer.Ordinal).ToList();
        File.Delete(tools[^1]);

        var second = await ReplayAsync(name);
        Assert.DoesNotContain(new WorkspaceFileEntry("notes.txt", "txt"), second[^1].WorkspaceFileList!);
        Assert.Equal(await Replays.ExpectedStatusesAsync(folder), second.Select(m => m.Status));
        Assert.Equal(first.Count - 1, second.Count);
    }

    [Fact]
    public async Task AReimportedRecordingIsReadAfresh()
    {
        var name = $"cached_rows_{Guid.NewGuid():N}";
        await server.ImportAsync(name, "multi_subtask", Ct);
        var first = await ReplayAsync(name);
        Assert.Equal(await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask")), first.Select(m => m.Status));

        await server.ImportAsync(name, "no_plan", Ct);
        var second = await ReplayAsync(name);
        var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "no_plan"));
        Assert.NotEqual(first.Select(m => m.Status), expected);
        Assert.Equal(expected, second.Select(m => m.Status));
    }


    private async Task<List<RecorderEnvelope>> ReplayAsync(string recording)
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, recording), Ct);
        var messages = await Replays.RunToEndAsync(client);
        Replays.AssertGapFreeFromOne(messages);
        Assert.Equal(RecorderStatus.Finished, messages[^1].Status);
        return messages;
    }
}
