using System.Security.Cryptography;
using Dapper;
using Recorder.Data.Users;
using Recorder.Data.Workspace;
using Recorder.Tests.Infrastructure;
using Recorder.XAgent;

namespace Recorder.Tests.Data;

public sealed class WorkspaceRepositoryTests(DatabaseFixture fixture) : TimedTest, IClassFixture<DatabaseFixture>
{
    private readonly WorkspaceRepository _workspace = new(fixture.Database.DataSource);

    private async Task<string> NewInteractionAsync()
    {
        var userId = $"u{Guid.NewGuid():N}";
        await new UserRepository(fixture.Database.DataSource).UpsertAsync(userId, "token-of-the-test", "", "", true, true, Ct);
        var id = Guid.NewGuid().ToString("N");
        await TestInteractions.InsertWaitingAsync(fixture.Database.DataSource, id, userId, Ct);
        return id;
    }

    private static byte[] RandomContent(int length) => RandomNumberGenerator.GetBytes(length);

    private async Task<long> StoredCopiesAsync(params byte[][] contents)
    {
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM workspace_contents WHERE content_hash = ANY(@hashes)",
            new { hashes = contents.Select(SHA256.HashData).ToArray() });
    }

    [Fact]
    public async Task TheSameContentTwiceIsStoredOnceAndASecondInteractionWithItSendsNoBytes()
    {
        var picture = RandomContent(50_000);
        var notes = RandomContent(300);
        IReadOnlyList<WorkspaceFile> files = [new("plot.png", picture), new("notes.txt", notes), new("copy/plot.png", picture)];
        var first = await NewInteractionAsync();
        var second = await NewInteractionAsync();

        var firstWrite = await _workspace.StoreAsync(first, files, Ct);
        Assert.Equal(new WorkspaceWrite(3, 2, picture.Length + notes.Length), firstWrite);
        Assert.Equal(2, await StoredCopiesAsync(picture, notes));

        // Another replay of the same recording: file rows only.
        Assert.Equal(new WorkspaceWrite(3, 0, 0), await _workspace.StoreAsync(second, files, Ct));
        Assert.Equal(2, await StoredCopiesAsync(picture, notes));

        foreach (var id in new[] { first, second })
        {
            var all = await _workspace.ReadAllAsync(id, Ct);
            Assert.Equal(["copy/plot.png", "notes.txt", "plot.png"], all.Select(f => f.Name));
            Assert.Equal(picture, all.Single(f => f.Name == "plot.png").Content);
            Assert.Equal(picture, all.Single(f => f.Name == "copy/plot.png").Content);
            Assert.Equal(notes, all.Single(f => f.Name == "notes.txt").Content);
        }

        var names = await _workspace.ListNamesAsync([first, second], Ct);
        Assert.Equal(["copy/plot.png", "notes.txt", "plot.png"], names[second]);
        var read = await _workspace.ReadAsync([(first, "plot.png"), (second, "notes.txt"), (second, "missing.png")], Ct);
        Assert.Equal(2, read.Count);
        Assert.Equal(picture, read[(first, "plot.png")]);
        Assert.Equal(notes, read[(second, "notes.txt")]);
    }

    [Fact]
    public async Task ReplacingAFileOfOneInteractionLeavesTheContentAnotherSharesAndStoringAgainIsIdempotent()
    {
        var shared = RandomContent(1_000);
        var replacement = RandomContent(1_000);
        var first = await NewInteractionAsync();
        var second = await NewInteractionAsync();
        await _workspace.AddAsync(first, [new("a.png", shared)], Ct);
        await _workspace.AddAsync(second, [new("a.png", shared)], Ct);

        await _workspace.AddAsync(first, [new("a.png", replacement)], Ct);
        await _workspace.AddAsync(first, [new("a.png", replacement)], Ct);

        Assert.Equal(replacement, (await _workspace.ReadAsync([(first, "a.png")], Ct))[(first, "a.png")]);
        Assert.Equal(shared, (await _workspace.ReadAsync([(second, "a.png")], Ct))[(second, "a.png")]);
        Assert.Single(await _workspace.ReadAllAsync(first, Ct));
        Assert.Equal(2, await StoredCopiesAsync(shared, replacement));
    }

    [Fact]
    public async Task OnlyContentsNoFileNamesAreDeletedAndAStoreAfterwardsSendsThemAgain()
    {
        var kept = RandomContent(700);
        var dropped = RandomContent(900);
        var first = await NewInteractionAsync();
        var second = await NewInteractionAsync();
        await _workspace.AddAsync(first, [new("kept.bin", kept), new("dropped.bin", dropped)], Ct);
        await _workspace.AddAsync(second, [new("kept.bin", kept)], Ct);
        await _workspace.AddAsync(first, [new("dropped.bin", kept)], Ct); // `dropped` is now named by no file

        var deleted = await _workspace.DeleteUnreferencedAsync(batchSize: 1, Ct);

        Assert.Equal(new ContentsDeleted(1, dropped.Length), deleted);
        Assert.Equal(1, await StoredCopiesAsync(kept));
        Assert.Equal(0, await StoredCopiesAsync(dropped));
        Assert.Equal(kept, (await _workspace.ReadAsync([(first, "dropped.bin")], Ct))[(first, "dropped.bin")]);
        Assert.Equal(new ContentsDeleted(0, 0), await _workspace.DeleteUnreferencedAsync(batchSize: 10, Ct));

        Assert.Equal(new WorkspaceWrite(1, 1, dropped.Length), await _workspace.StoreAsync(second, [new("back.bin", dropped)], Ct));
        Assert.Equal(dropped, (await _workspace.ReadAllAsync(second, Ct)).Single(f => f.Name == "back.bin").Content);
    }

    /// <summary>Waits until a session of this database waits for a lock while running a statement that starts with <paramref name="statement"/>.</summary>
    private async Task WaitForBlockedAsync(string statement)
    {
        await Eventually.UntilAsync(async () =>
        {
            await using var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
            return await connection.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE @prefix",
                new { prefix = statement + "%" });
        }, blocked => blocked > 0, TestEnvironment.Timeout, $"a statement starting with '{statement}' to wait for a lock");
    }

    [Fact]
    public async Task AStoreWhoseContentIsDeletedBetweenItsTwoRoundTripsStoresItAgain()
    {
        var content = RandomContent(2_000);
        var hash = SHA256.HashData(content);
        var owner = await NewInteractionAsync();
        var target = await NewInteractionAsync();
        await _workspace.AddAsync(owner, [new("old.bin", content)], Ct);
        await _workspace.AddAsync(owner, [new("old.bin", RandomContent(10))], Ct); // `content` is now named by no file

        // A prune deleting it, not committed yet: the store finds the content stored, and its file row waits on the lock.
        await using var prune = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        await using var transaction = await prune.BeginTransactionAsync(Ct);
        Assert.Equal(1, await prune.ExecuteAsync("DELETE FROM workspace_contents WHERE content_hash = @hash", new { hash }, transaction));
        var store = _workspace.StoreAsync(target, [new("new.bin", content)], Ct);
        await WaitForBlockedAsync("WITH c AS (");
        await transaction.CommitAsync(Ct);

        // Its foreign key check failed once the delete committed; the second attempt sent the content.
        Assert.Equal(new WorkspaceWrite(1, 1, content.Length), await store.WaitAsync(TestEnvironment.Timeout));
        Assert.Equal(content, (await _workspace.ReadAllAsync(target, Ct)).Single().Content);
        Assert.Equal(1, await StoredCopiesAsync(content));
    }

    [Fact]
    public async Task DeletingUnreferencedContentsSkipsOneAStoreIsNamingRightNow()
    {
        var content = RandomContent(1_500);
        var hash = SHA256.HashData(content);
        var owner = await NewInteractionAsync();
        var target = await NewInteractionAsync();
        await _workspace.AddAsync(owner, [new("old.bin", content)], Ct);
        await _workspace.AddAsync(owner, [new("old.bin", RandomContent(10))], Ct);

        // A store naming the content, not committed yet (its foreign key check holds a lock on the content's row).
        await using var store = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        await using var transaction = await store.BeginTransactionAsync(Ct);
        await store.ExecuteAsync("INSERT INTO workspace_files (interaction_id, name, content_hash) VALUES (@target, 'new.bin', @hash)", new { target, hash }, transaction);

        Assert.Equal(new ContentsDeleted(0, 0), await _workspace.DeleteUnreferencedAsync(100, Ct).WaitAsync(TestEnvironment.Timeout));
        await transaction.CommitAsync(Ct);

        Assert.Equal(content, (await _workspace.ReadAllAsync(target, Ct)).Single().Content);
        Assert.Equal(new ContentsDeleted(0, 0), await _workspace.DeleteUnreferencedAsync(100, Ct));
    }
}
