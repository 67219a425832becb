using System.Security.Cryptography;
using Dapper;
using Recorder.Data.Interactions;
using Recorder.Data.Users;
using Recorder.Data.Workspace;
using Recorder.Hub.Retention;
using Recorder.Tests.Infrastructure;
using Recorder.XAgent;

namespace Recorder.Tests.Data;

/// <summary>A database per test: a prune works on the whole database, so each test counts only its own rows.</summary>
public sealed class InteractionPruneTests : TimedTest, IAsyncLifetime
{
    private TestDatabase _database = null!;
    private InteractionRepository _interactions = null!;
    private WorkspaceRepository _workspace = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(CancellationToken.None).WaitAsync(TestEnvironment.Timeout);
        _interactions = new InteractionRepository(_database.DataSource);
        _workspace = new WorkspaceRepository(_database.DataSource);
        await new UserRepository(_database.DataSource).UpsertAsync("pruned-user", "token-of-the-test", "", "", true, true, Ct);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    /// <summary>An interaction in <paramref name="status"/>, last changed <paramref name="age"/> ago, with <paramref name="raws"/> raws and the files.</summary>
    private async Task<string> InsertAsync(string status, TimeSpan age, int raws, params WorkspaceFile[] files)
    {
        var id = Guid.NewGuid().ToString("N");
        await using (var connection = await _database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("""
                INSERT INTO interactions (interaction_id, user_id, status, recorder_dir, last_seq, create_time, update_time)
                VALUES (@id, 'pruned-user', @status, 'test', @raws, now() - @age, now() - @age);
                INSERT INTO raw (interaction_id, seq, node_id, status)
                SELECT @id, g, 'node-' || g, 'inner' FROM generate_series(1, @raws) g;
                """, new { id, status, raws, age });
        }

        await _workspace.AddAsync(id, files, Ct);
        return id;
    }

    private async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        return (await connection.ExecuteScalarAsync<T>(sql, args))!;
    }

    private async Task<List<string>> RemainingAsync()
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        return [.. await connection.QueryAsync<string>("SELECT interaction_id FROM interactions ORDER BY interaction_id")];
    }

    private Task<long> ContentCopiesAsync(byte[] content) =>
        ScalarAsync<long>("SELECT count(*) FROM workspace_contents WHERE content_hash = @hash", new { hash = SHA256.HashData(content) });

    private InteractionPruner Pruner => new(_interactions, _workspace);

    [Fact]
    public async Task OldFinishedInteractionsGoWithTheirRawsFilesAndUnreferencedContentsWhileTheRestStays()
    {
        var shared = RandomNumberGenerator.GetBytes(4_000);   // named by an old and by a recent interaction
        var onlyOld = RandomNumberGenerator.GetBytes(3_000);  // named only by old ones
        var onlyRunning = RandomNumberGenerator.GetBytes(2_000);
        var old = TimeSpan.FromDays(40);

        var finished = await InsertAsync("finished", old, 5, new WorkspaceFile("plot.png", shared), new WorkspaceFile("a.txt", onlyOld));
        var failed = await InsertAsync("failed", old, 2, new WorkspaceFile("a.txt", onlyOld));
        var closed = await InsertAsync("closed", old + TimeSpan.FromDays(1), 3);
        var recent = await InsertAsync("finished", TimeSpan.FromDays(29), 4, new WorkspaceFile("plot.png", shared));
        var running = await InsertAsync("running", old, 6, new WorkspaceFile("r.bin", onlyRunning));
        var waiting = await InsertAsync("waiting", old, 0);
        var attached = await InsertAsync("finished", old, 1);
        var leftBehind = await InsertAsync("finished", old, 1); // a connection row of an instance that is gone
        await using (var connection = await _database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("""
                INSERT INTO hub_instances (instance_id) VALUES ('live-instance');
                INSERT INTO hub_connections (connection_id, interaction_id, instance_id) VALUES
                    ('c1', @attached, 'live-instance'), ('c2', @leftBehind, 'gone-instance');
                """, new { attached, leftBehind });
        }

        // Batches of two: the four old ones to go take two transactions.
        var report = await Pruner.PruneAsync(TimeSpan.FromDays(30), batchSize: 2, Ct);

        Assert.Equal(new PruneReport(4, 5 + 2 + 3 + 1, 3, 1, onlyOld.Length, 2), report);
        Assert.Equal(new[] { recent, running, waiting, attached }.Order(StringComparer.Ordinal), await RemainingAsync());
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM raw WHERE interaction_id = ANY(@ids)", new { ids = new[] { finished, failed, closed, leftBehind } }));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM workspace_files WHERE interaction_id = ANY(@ids)", new { ids = new[] { finished, failed } }));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM hub_connections WHERE interaction_id = @leftBehind", new { leftBehind }));
        Assert.Equal(4 + 6 + 1, await ScalarAsync<long>("SELECT count(*) FROM raw"));
        Assert.Equal(0, await ContentCopiesAsync(onlyOld));
        Assert.Equal(1, await ContentCopiesAsync(shared));
        Assert.Equal(1, await ContentCopiesAsync(onlyRunning));
        Assert.Equal(shared, (await _workspace.ReadAllAsync(recent, Ct)).Single().Content);
        Assert.Equal(onlyRunning, (await _workspace.ReadAllAsync(running, Ct)).Single().Content);

        // Nothing more is old enough; a shorter age takes the recent one too, but never the running or waiting one.
        Assert.Equal(new PruneReport(0, 0, 0, 0, 0, 0), await Pruner.PruneAsync(TimeSpan.FromDays(30), 2, Ct));
        Assert.Equal(new PruneReport(1, 4, 1, 1, shared.Length, 1), await Pruner.PruneAsync(TimeSpan.FromDays(1), 100, Ct));
        Assert.Equal(new[] { running, waiting, attached }.Order(StringComparer.Ordinal), await RemainingAsync());
    }

    [Fact]
    public async Task InteractionsWithMoreRawsThanOneBatchHoldArePrunedAcrossSeveralTransactions()
    {
        var many = InteractionRepository.PruneRawsPerBatch;
        var first = await InsertAsync("finished", TimeSpan.FromDays(3), many);
        var second = await InsertAsync("finished", TimeSpan.FromDays(2), many);
        var kept = await InsertAsync("finished", TimeSpan.FromHours(1), 1);

        var pruned = await _interactions.PruneAsync(TimeSpan.FromDays(1), batchSize: 100, Ct);

        // One transaction would take both (100 interactions fit a batch); their raws make it two.
        Assert.Equal(new InteractionsPruned(2, 2L * many, 0, 2), pruned);
        Assert.Equal([kept], await RemainingAsync());
        Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM raw"));
        Assert.DoesNotContain(first, await RemainingAsync());
        Assert.DoesNotContain(second, await RemainingAsync());
    }

    [Fact]
    public async Task ThePruneLockIsHeldByOneSessionAtATime()
    {
        var holding = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var first = _interactions.TryWithPruneLockAsync(async _ =>
        {
            holding.SetResult();
            await release.Task;
        }, Ct);
        await holding.Task.WaitAsync(TestEnvironment.Timeout);

        var ran = false;
        Assert.False(await _interactions.TryWithPruneLockAsync(_ => { ran = true; return Task.CompletedTask; }, Ct).WaitAsync(TestEnvironment.Timeout));
        Assert.False(ran);

        release.SetResult();
        Assert.True(await first.WaitAsync(TestEnvironment.Timeout));
        Assert.True(await _interactions.TryWithPruneLockAsync(_ => { ran = true; return Task.CompletedTask; }, Ct).WaitAsync(TestEnvironment.Timeout));
        Assert.True(ran);
    }
}
