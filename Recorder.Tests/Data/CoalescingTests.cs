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
