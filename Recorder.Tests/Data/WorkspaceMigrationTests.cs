using System.Security.Cryptography;
using Dapper;
using DbUp;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Recorder.Data.Migrations;
using Recorder.Data.Workspace;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Data;

public sealed class WorkspaceMigrationTests
{
    /// <summary>Applies the embedded scripts numbered below <paramref name="before"/> (DbUp's own journal, as the migrator keeps it).</summary>
    private static void MigrateUpTo(string connectionString, string before)
    {
        var result = DeployChanges.To
            .PostgresqlDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly,
                name => name.EndsWith(".sql", StringComparison.Ordinal) && string.CompareOrdinal(name.Split('.')[^2], before) < 0)
            .WithTransactionPerScript()
            .LogToNowhere()
            .Build()
            .PerformUpgrade();
        Assert.True(result.Successful, result.Error?.Message);
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes);

    [Fact]
    public async Task A0004DatabaseWithWorkspaceRowsKeepsEveryFileAndStoresEachDistinctContentOnce()
    {
        var name = $"recorder_test_{Environment.ProcessId}_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(TestEnvironment.PostgresConnectionString))
        {
            await admin.ExecuteAsync($"CREATE DATABASE {name}").WaitAsync(TestEnvironment.Timeout);
        }

        var connectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = name }.ConnectionString;
        try
        {
            MigrateUpTo(connectionString, "0005");
            var picture = RandomNumberGenerator.GetBytes(20_000);
            var notes = RandomNumberGenerator.GetBytes(100);
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                // The shape before 0005: each interaction's files with their bytes.
                await connection.ExecuteAsync("""
                    INSERT INTO users (user_id, token_hash) VALUES ('u', '\x00');
                    INSERT INTO interactions (interaction_id, user_id, status) VALUES ('a', 'u', 'finished'), ('b', 'u', 'running');
                    INSERT INTO workspace_files (interaction_id, name, content) VALUES
                        ('a', 'plot.png', @picture), ('a', 'notes.txt', @notes), ('b', 'plot.png', @picture), ('b', 'again.png', @picture);
                    """, new { picture, notes }).WaitAsync(TestEnvironment.Timeout);
            }

            await DatabaseMigrator.MigrateAsync(connectionString, NullLogger.Instance, CancellationToken.None).WaitAsync(TestEnvironment.Timeout);

            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            var workspace = new WorkspaceRepository(dataSource);
            using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
            var a = await workspace.ReadAllAsync("a", timeout.Token);
            var b = await workspace.ReadAllAsync("b", timeout.Token);
            Assert.Equal([("notes.txt", Hex(notes)), ("plot.png", Hex(picture))], a.Select(f => (f.Name, Hex(f.Content))));
            Assert.Equal([("again.png", Hex(picture)), ("plot.png", Hex(picture))], b.Select(f => (f.Name, Hex(f.Content))));

            await using var check = await dataSource.OpenConnectionAsync(timeout.Token);
            var stored = (await check.QueryAsync<(byte[] Hash, long Size)>("SELECT content_hash, size FROM workspace_contents ORDER BY size")).ToList();
            Assert.Equal([(Hex(SHA256.HashData(notes)), 100L), (Hex(SHA256.HashData(picture)), 20_000L)], stored.Select(s => (Hex(s.Hash), s.Size)));
            Assert.Empty(await check.QueryAsync<string>(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'workspace_files' AND column_name = 'content'"));

            // A replay of the same workspace after the migration sends no bytes.
            Assert.Equal(new WorkspaceWrite(2, 0, 0), await workspace.StoreAsync("b", [new("plot.png", picture), new("notes.txt", notes)], timeout.Token));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(TestEnvironment.PostgresConnectionString);
            await admin.ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        }
    }
}
