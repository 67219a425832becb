using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Recorder.Data;
using Recorder.Data.Migrations;

namespace Recorder.Tests.Infrastructure;

/// <summary>A fresh, migrated PostgreSQL database of its own for one test class; dropped afterwards.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _name;

    private TestDatabase(string name, string connectionString, NpgsqlDataSource dataSource)
    {
        _name = name;
        ConnectionString = connectionString;
        DataSource = dataSource;
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public static async Task<TestDatabase> CreateAsync(CancellationToken cancellationToken)
    {
        RecorderDatabase.ConfigureDapper();
        var name = $"recorder_test_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(TestEnvironment.PostgresConnectionString))
        {
            await admin.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var connectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = name }.ConnectionString;
        await DatabaseMigrator.MigrateAsync(connectionString, NullLogger.Instance, cancellationToken);
        return new TestDatabase(name, connectionString, NpgsqlDataSource.Create(connectionString));
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(TestEnvironment.PostgresConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
