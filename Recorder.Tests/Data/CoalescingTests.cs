using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using Recorder.Data.Interactions;
using Recorder.Data.Workspace;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Data;

/// <summary>
/// Requests made at the same time share statements (run requests, workspace stores), each still gets its own answer,
/// and a request the server refuses fails alone.
/// </summary>
public sealed class CoalescingTests(DatabaseFixture fixture) : TimedTest, IClassFixture<DatabaseFixture>
{
    private readonly StatementLog _statements = new();
    private NpgsqlDataSource? _dataSource;

    /// <summary>A data source of this test alone, whose statements <see cref="_statements"/> sees.</summary>
    private NpgsqlDataSource DataSource => _dataSource ??= new NpgsqlDataSourceBuilder(fixture.Database.ConnectionString)
        .UseLoggerFactory(LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_statements)))
        .Build();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _dataSource?.Dispose();
        }

        base.Dispose(disposing);
    }

    [Fact]
    public async Task ConcurrentRunRequestsShareStatementsAndEachRunIsRequestedExactlyOnce()
    {
        var ids = await TestInteractions.InsertWaitingAsync(fixture.Database.DataSource, 40, Ct);

        var interactions = new InteractionRepository(DataSource);
        var results = await Task.WhenAll(ids.Concat(ids).Select(id => Task.Run(() => interactions.RequestRunAsync(id, Ct))))
            .WaitAsync(TestEnvironment.Timeout);

        // Each of the 40 runs is requested by exactly one of its two callers; the other is the documented no-op.
        Assert.Equal(40, results.Count(r => r));
        var requests = _statements.Count("run_requested = true");
        Assert.InRange(requests, 1, 79); // 80 calls, fewer statements: at least two calls shared one
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        Assert.Equal(40, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM interactions WHERE interaction_id = ANY(@ids) AND run_requested", new { ids = ids.ToArray() }));

        // A request after all that is a no-op answered on its own.
        Assert.False(await interactions.RequestRunAsync(ids[0], Ct));
    }

    [Fact]
    public async Task AStoreTheServerRefusesFailsAloneAndTheStoresBatchedWithItAreKept()
    {
        var good = await TestInteractions.InsertWaitingAsync(fixture.Database.DataSource, 12, Ct);

        var workspace = new WorkspaceRepository(DataSource);
        var content = Guid.NewGuid().ToByteArray();
        var missing = Guid.NewGuid().ToString("N"); // no such interaction: its file row fails the foreign key
        var stores = good.Select(id => (Id: id, Task: Task.Run(() => workspace.StoreAsync(id, [new("a.txt", content)], Ct))))
            .Append((Id: missing, Task: Task.Run(() => workspace.StoreAsync(missing, [new("a.txt", content)], Ct))))
            .ToList();

        var refused = await Assert.ThrowsAsync<PostgresException>(() => stores[^1].Task.WaitAsync(TestEnvironment.Timeout));
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, refused.SqlState);
        foreach (var (id, task) in stores.SkipLast(1))
        {
            Assert.Equal(1, (await task.WaitAsync(TestEnvironment.Timeout)).Files);
            var (name, stored) = Assert.Single(await workspace.ReadAllAsync(id, Ct));
            Assert.Equal("a.txt", name);
            Assert.Equal(content, stored);
        }

        Assert.Empty(await workspace.ReadAllAsync(missing, Ct));
    }

    [Fact]
    public async Task AContentThisRepositoryStoredIsNotAskedForAgainAndAPruneSinceIsNoticed()
    {
        var ids = await TestInteractions.InsertWaitingAsync(fixture.Database.DataSource, 3, Ct);

        var workspace = new WorkspaceRepository(DataSource);
        var content = Guid.NewGuid().ToByteArray();
        Assert.Equal(new WorkspaceWrite(1, 1, content.Length), await workspace.StoreAsync(ids[0], [new("a.bin", content)], Ct));
        var asked = _statements.Count("FROM workspace_contents WHERE content_hash = ANY");
        Assert.Equal(new WorkspaceWrite(1, 0, 0), await workspace.StoreAsync(ids[1], [new("a.bin", content)], Ct));
        Assert.Equal(asked, _statements.Count("FROM workspace_contents WHERE content_hash = ANY")); // one round trip, not two

        // Gone behind the repository's back (as a prune of another instance would): the store notices and sends it.
        await using (var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("DELETE FROM workspace_files WHERE interaction_id = ANY(@ids)", new { ids = ids.ToArray() });
            await connection.ExecuteAsync("DELETE FROM workspace_contents WHERE content_hash = sha256(@content)", new { content });
        }

        Assert.Equal(new WorkspaceWrite(1, 1, content.Length), await workspace.StoreAsync(ids[2], [new("a.bin", content)], Ct));
        var (_, stored) = Assert.Single(await workspace.ReadAllAsync(ids[2], Ct));
        Assert.Equal(content, stored);
    }

    [Fact]
    public async Task ConcurrentDetachesShareStatementsAndOnlyInteractionsLeftWithoutAConnectionStartTheirGrace()
    {
        // 0-9 keep a second connection; 10-19 lose both of theirs at once; 20-29 lose their only one.
        var ids = await TestInteractions.InsertWaitingAsync(fixture.Database.DataSource, 30, Ct);
        var instance = Guid.NewGuid().ToString("N");
        var rows = ids.SelectMany((id, i) => i < 20
            ? new (string Connection, string Id)[] { ($"a{i}-{instance}", id), ($"b{i}-{instance}", id) }
            : [($"a{i}-{instance}", id)]).ToList();
        await using (var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("""
                INSERT INTO hub_connections (connection_id, interaction_id, instance_id)
                SELECT c, i, @instance FROM unnest(@connections::text[], @ids::text[]) AS t(c, i)
                """, new { connections = rows.Select(r => r.Connection).ToArray(), ids = rows.Select(r => r.Id).ToArray(), instance }).WaitAsync(Ct);
        }

        var kept = ids.Take(10).ToHashSet(StringComparer.Ordinal);
        var leaving = rows.Where(r => !(r.Connection.StartsWith('b') && kept.Contains(r.Id))).Select(r => r.Connection).ToList();
        var interactions = new InteractionRepository(DataSource);
        await Task.WhenAll(leaving.Select(c => Task.Run(() => interactions.DetachConnectionAsync(c, Ct)))).WaitAsync(TestEnvironment.Timeout);

        Assert.InRange(_statements.Count("DELETE FROM hub_connections WHERE connection_id = ANY"), 1, leaving.Count - 1);
        await using var check = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        var detached = (await check.QueryAsync<string>(
            "SELECT interaction_id FROM interactions WHERE interaction_id = ANY(@ids) AND detached_since IS NOT NULL", new { ids = ids.ToArray() }).WaitAsync(Ct)).ToHashSet();
        Assert.Equal(ids.Skip(10).Order(StringComparer.Ordinal), detached.Order(StringComparer.Ordinal));
        var remaining = await check.QueryAsync<string>("SELECT connection_id FROM hub_connections WHERE instance_id = @instance", new { instance }).WaitAsync(Ct);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"b{i}-{instance}").Order(StringComparer.Ordinal), remaining.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task WhenTheServerCannotBeReachedEveryRequestOfABatchFailsAndNoneIsLeftWaiting()
    {
        // Nothing listens on port 1. The first request runs alone and the others queue behind its retries, so they share
        // the next call: each of them must get the failure (none may wait for an answer that never comes).
        await using var unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Database=none;Username=none;Timeout=2");
        var interactions = new InteractionRepository(unreachable);
        var first = interactions.RequestRunAsync(Guid.NewGuid().ToString("N"), Ct);
        var queued = Enumerable.Range(0, 8).Select(_ => interactions.DetachConnectionAsync(Guid.NewGuid().ToString("N"), Ct))
            .Concat(Enumerable.Range(0, 8).Select(_ => (Task)interactions.RequestRunAsync(Guid.NewGuid().ToString("N"), Ct)))
            .ToList();
        foreach (var request in queued.Prepend(first))
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => request.WaitAsync(TestEnvironment.Timeout));
            Assert.IsAssignableFrom<NpgsqlException>(error);
        }
    }

    /// <summary>The statements Npgsql logs for one data source.</summary>
    private sealed class StatementLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public int Count(string fragment) => _lines.Count(l => l.Contains(fragment, StringComparison.Ordinal));

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName == "Npgsql.Command" ? _lines : null);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string>? lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => lines is not null;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines?.Enqueue(formatter(state, exception));
        }
    }
}
