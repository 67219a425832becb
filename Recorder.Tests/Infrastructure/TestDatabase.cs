using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Recorder.Data;
using Recorder.Data.Migrations;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// A fresh, migrated PostgreSQL database of its own for one test class; dropped afterwards. Its name carries the test
/// process's id, so that the first database of a run can drop those that a killed earlier run left behind.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private const string Prefix = "recorder_test_";
    private static readonly Lazy<Task> LeftoversDropped = new(DropLeftoversAsync);
    private readonly string _name;
    private readonly string _admin;

    private TestDatabase(string name, string admin, string connectionString, NpgsqlDataSource dataSource)
    {
        _name = name;
        _admin = admin;
        ConnectionString = connectionString;
        DataSource = dataSource;
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public static Task<TestDatabase> CreateAsync(CancellationToken cancellationToken) =>
        CreateAsync(TestEnvironment.PostgresConnectionString, cancellationToken);

    /// <summary>A database on the server of <paramref name="admin"/> (a superuser's connection string).</summary>
    public static async Task<TestDatabase> CreateAsync(string admin, CancellationToken cancellationToken)
    {
        RecorderDatabase.ConfigureDapper();
        await LeftoversDropped.Value.WaitAsync(cancellationToken);
        var name = $"{Prefix}{Environment.ProcessId}_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
        await DatabaseMigrator.MigrateAsync(connectionString, NullLogger.Instance, cancellationToken);
        return new TestDatabase(name, admin, connectionString, NpgsqlDataSource.Create(connectionString));
    }

    /// <summary>Drops the test databases whose process is gone (or that predate the process id in the name).</summary>
    private static async Task DropLeftoversAsync()
    {
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
        await using var admin = new NpgsqlConnection(TestEnvironment.PostgresConnectionString);
        await admin.OpenAsync(timeout.Token);
        var names = new List<string>();
        await using (var list = new NpgsqlCommand($"SELECT datname FROM pg_database WHERE datname LIKE '{Prefix}%'", admin))
        await using (var reader = await list.ExecuteReaderAsync(timeout.Token))
        {
            while (await reader.ReadAsync(timeout.Token))
            {
                names.Add(reader.GetString(0));
            }
        }

        foreach (var name in names.Where(IsLeftOver))
        {
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync(timeout.Token);
        }
    }

    private static bool IsLeftOver(string name)
    {
        var owner = name[Prefix.Length..].Split('_')[0];
        if (!int.TryParse(owner, System.Globalization.CultureInfo.InvariantCulture, out var pid))
        {
            return true; // the older naming, without a process id: no run of today's code made it
        }

        return pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}");
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(_admin);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
