using Dapper;
using Microsoft.Extensions.Options;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;
using Recorder.Data.Recordings;
using Recorder.Data.Users;
using Recorder.Data.Workspace;
using Recorder.Hub;
using Recorder.Hub.Recordings;
using Recorder.Tests.Data;
using Recorder.Tests.Infrastructure;
using Recorder.Tests.XAgent;
using Recorder.XAgent.Rows;

namespace Recorder.Tests.Recordings;

/// <summary>
/// A <c>recorder_dir</c> that three sources know is found in the documented order (docs/protocol.md, connect
/// parameters): imported <c>running_record</c> rows, then a folder under the recordings root, then a past interaction.
/// </summary>
public sealed class RecordingResolverTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task ImportedRowsComeBeforeTheFolderAndTheFolderBeforeThePastInteraction()
    {
        using var cts = new CancellationTokenSource(TestEnvironment.Timeout);
        var ct = cts.Token;
        var dataSource = fixture.Database.DataSource;
        var userId = $"u{Guid.NewGuid():N}";
        var name = Guid.NewGuid().ToString("N");
        await new UserRepository(dataSource).UpsertAsync(userId, "token-of-the-test", "", "", true, true, ct);
        await TestInteractions.InsertWaitingAsync(dataSource, name, userId, ct);

        using var root = new TempFolder();
        using (var folder = ReplayFixtures.CopyToTemp("multi_subtask"))
        {
            Directory.Move(folder.Path, Path.Combine(root.Path, name));
        }

        var rows = new RunningRecordRepository(dataSource);
        await rows.ReplaceAsync(name, XAgentRunningRecords.ToRows(await ReplayFixtures.ReadAsync("demo")), [], ct);

        using var cache = new RecordingCache(Options.Create(new RecorderOptions { RecordingCacheMegabytes = 0 }));
        var resolver = new RecordingResolver(
            new RunningRecordSource(rows, cache),
            new DiskRecordingSource(Options.Create(new RecorderOptions { RecordingsRoot = root.Path }), cache),
            new PastInteractionSource(new InteractionRepository(dataSource), new RawRepository(dataSource), new WorkspaceRepository(dataSource)));

        var imported = await resolver.LoadAsync(name, userId, ct);
        Assert.StartsWith("rows:", imported.Version, StringComparison.Ordinal);

        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            await connection.ExecuteAsync(new CommandDefinition("DELETE FROM running_record WHERE record_id = @name", new { name }, cancellationToken: ct));
        }

        var fromFolder = await resolver.LoadAsync(name, userId, ct);
        Assert.StartsWith("disk:", fromFolder.Version, StringComparison.Ordinal);
        Assert.NotEqual(imported.Steps.Count, fromFolder.Steps.Count); // the folder holds another recording than the rows

        Directory.Delete(Path.Combine(root.Path, name), recursive: true);
        var past = await resolver.LoadAsync(name, userId, ct);
        Assert.Null(past.Version);
        Assert.Empty(past.Steps); // the waiting interaction wrote no raws

        await Assert.ThrowsAsync<RecordingNotFoundException>(() => resolver.LoadAsync(name, $"u{Guid.NewGuid():N}", ct));
    }
}
