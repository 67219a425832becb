using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Recorder.Data;
using Recorder.Data.Migrations;
using Recorder.Data.Users;

namespace Recorder.Bench;

/// <summary>A user the bench connects as.</summary>
internal sealed record BenchUser(string UserId, string Token)
{
    public static IReadOnlyList<BenchUser> Many(string prefix, int count) =>
        Enumerable.Range(0, count).Select(i => new BenchUser($"bench-{prefix}-{i}", $"token-{prefix}-{i}")).ToList();
}

/// <summary>Counts over the interactions table (see <see cref="BenchDatabase.ReadPresenceAsync"/>).</summary>
internal sealed record InteractionPresence(long Waiting, long Closed, long Other, long Detached, long Attached, long Instances);

/// <summary>
/// A fresh, migrated database <c>bench_&lt;guid&gt;</c> on the server of RECORDER_TEST_PG, dropped on dispose
/// (like the tests' TestDatabase). Statistics are read through the admin connection, so reading them does not
/// count against the bench database.
/// </summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private static readonly TimeSpan DropTimeout = TimeSpan.FromSeconds(30);
    private readonly string _adminConnectionString;

    private BenchDatabase(string adminConnectionString, string name, string connectionString)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = connectionString;
        // Named, so that the pool's metrics (see QueryCounter) are told apart from the hub's pool on the same database.
        // Its statements are prepared as the hub's are (RecorderDataExtensions): the bare PostgreSQL limit gets the same help.
        var builder = new NpgsqlDataSourceBuilder(connectionString) { Name = "bench-own" };
        builder.ConnectionStringBuilder.MaxAutoPrepare = RecorderDataExtensions.MaxAutoPrepare;
        DataSource = builder.Build();
    }

    public string Name { get; }

    public string ConnectionString { get; }

    /// <summary>The bench's own pool on the database (seeding, the latency driver); the hub has its own.</summary>
    public NpgsqlDataSource DataSource { get; }

    public static async Task<BenchDatabase> CreateAsync(string adminConnectionString, CancellationToken cancellationToken)
    {
        RecorderDatabase.ConfigureDapper();
        var name = $"bench_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(adminConnectionString))
        {
            await admin.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var connectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
        var database = new BenchDatabase(adminConnectionString, name, connectionString);
        try
        {
            await DatabaseMigrator.MigrateAsync(connectionString, NullLogger.Instance, cancellationToken);
            return database;
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    public async Task SeedUsersAsync(IEnumerable<BenchUser> users, CancellationToken cancellationToken)
    {
        var repository = new UserRepository(DataSource);
        await Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (user, ct) => await repository.UpsertAsync(user.UserId, user.Token, "", user.UserId, available: true, isBeta: true, ct));
    }

    /// <summary>Turns the insert trigger that NOTIFYs the pushers off or on (only in this bench database).</summary>
    public async Task SetNotifyTriggerAsync(bool enabled, CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        var sql = $"ALTER TABLE raw {(enabled ? "ENABLE" : "DISABLE")} TRIGGER raw_committed";
        await connection.ExecuteAsync(new CommandDefinition(sql, cancellationToken: cancellationToken));
    }

    /// <summary>Transactions committed in this database so far (<c>pg_stat_database.xact_commit</c>; PostgreSQL flushes it with a lag of up to a few seconds).</summary>
    public async Task<long> ReadCommittedTransactionsAsync(CancellationToken cancellationToken)
    {
        await using var admin = new NpgsqlConnection(_adminConnectionString);
        await admin.OpenAsync(cancellationToken);
        return await admin.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = @Name", new { Name }, cancellationToken: cancellationToken));
    }

    private const string PresenceSql = """
        SELECT
            count(*) FILTER (WHERE status = 'waiting') AS waiting,
            count(*) FILTER (WHERE status = 'closed') AS closed,
            count(*) FILTER (WHERE status NOT IN ('waiting', 'closed')) AS other,
            count(*) FILTER (WHERE detached_since IS NOT NULL) AS detached,
            (SELECT count(DISTINCT interaction_id) FROM hub_connections) AS attached,
            (SELECT count(*) FROM hub_instances) AS instances
        FROM interactions
        """;

    /// <summary>How the interactions stand: by status, how many have their disconnect grace running, how many have a connection recorded.</summary>
    public async Task<InteractionPresence> ReadPresenceAsync(CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<InteractionPresence>(new CommandDefinition(PresenceSql, cancellationToken: cancellationToken));
    }

    public async Task<string> ReadServerVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string>(new CommandDefinition("SHOW server_version", cancellationToken: cancellationToken)) ?? "?";
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        using var timeout = new CancellationTokenSource(DropTimeout);
        await using var admin = new NpgsqlConnection(_adminConnectionString);
        await admin.OpenAsync(timeout.Token);
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync(timeout.Token);
    }
}
