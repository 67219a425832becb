using Dapper;
using Npgsql;
using Recorder.Data.Recordings;
using Recorder.Data.Users;
using Recorder.Hub.Cli;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Cli;

public sealed class RecorderCliTests : IAsyncLifetime
{
    private TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync(CancellationToken.None).WaitAsync(TestEnvironment.Timeout);

    public async Task DisposeAsync() => await _database.DisposeAsync();

    private Task<int> RunAsync(params string[] args) =>
        RecorderCli.RunAsync([.. args, $"--ConnectionStrings:Recorder={_database.ConnectionString}"]).WaitAsync(TestEnvironment.Timeout);

    [Fact]
    public async Task UsersAddCreatesAUserAndASecondAddReplacesTheToken()
    {
        Assert.Equal(0, await RunAsync("users", "add", "cli-user", "--token", "first-token-01234"));
        Assert.Equal(0, await RunAsync("users", "add", "cli-user", "--token", "second-token-0123"));

        var user = await new UserRepository(_database.DataSource).FindAsync("cli-user", CancellationToken.None);
        Assert.NotNull(user);
        Assert.True(TokenHash.Matches("second-token-0123", user.TokenHash));
        Assert.False(TokenHash.Matches("first-token-01234", user.TokenHash));

        // A guessable token is refused and changes nothing.
        Assert.Equal(2, await RunAsync("users", "add", "cli-user", "--token", "x"));
        Assert.Equal(2, await RunAsync("users", "add", "cli-other", "--token", new string('k', RecorderCli.MinTokenLength - 1)));
        Assert.True(TokenHash.Matches("second-token-0123", (await new UserRepository(_database.DataSource).FindAsync("cli-user", CancellationToken.None))!.TokenHash));
        Assert.Null(await new UserRepository(_database.DataSource).FindAsync("cli-other", CancellationToken.None));
    }

    [Fact]
    public async Task UsersAddWithoutATokenMakesARandomOneAndPrintsItOnce()
    {
        var first = new StringWriter();
        Assert.Equal(0, await RecorderCli.RunAsync(["users", "add", "cli-random", $"--ConnectionStrings:Recorder={_database.ConnectionString}"],
            new System.CommandLine.InvocationConfiguration { Output = first }).WaitAsync(TestEnvironment.Timeout));
        var second = new StringWriter();
        Assert.Equal(0, await RecorderCli.RunAsync(["users", "add", "cli-random-2", $"--ConnectionStrings:Recorder={_database.ConnectionString}"],
            new System.CommandLine.InvocationConfiguration { Output = second }).WaitAsync(TestEnvironment.Timeout));

        var lines = first.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("user cli-random created", lines[0]);
        Assert.StartsWith("token ", lines[1], StringComparison.Ordinal);
        var token = lines[1]["token ".Length..];
        Assert.Equal(43, token.Length); // 256 bits, base64url
        var user = await new UserRepository(_database.DataSource).FindAsync("cli-random", CancellationToken.None);
        Assert.True(TokenHash.Matches(token, user!.TokenHash));
        Assert.NotEqual(token, second.ToString().Split('\n')[1].Trim()["token ".Length..]);
    }

    [Fact]
    public async Task RecordingsImportStoresTheFolderUnderItsName()
    {
        var folder = Path.Combine(TestEnvironment.FixtureRecordings, "multi_subtask");
        Assert.Equal(0, await RunAsync("recordings", "import", folder));

        var records = new RunningRecordRepository(_database.DataSource);
        var rows = await records.ListAsync("multi_subtask", CancellationToken.None);
        var files = await records.ListFilesAsync("multi_subtask", CancellationToken.None);
        var expectedFiles = Directory.EnumerateFiles(Path.Combine(folder, "workspace"), "*", SearchOption.AllDirectories).Count();
        Assert.NotEmpty(rows);
        Assert.Contains(rows, r => r.NodeType == "query");
        Assert.Contains(rows, r => r.NodeType == "tool_call" && r.Current == "1.2");
        Assert.Equal(expectedFiles, files.Count);
        Assert.Contains((await records.ListRecordingsAsync(CancellationToken.None)), r => r.RecordId == "multi_subtask" && r.Rows == rows.Count);
    }

    [Fact]
    public async Task ImportingAnUnreadableFolderFailsAndStoresNothing()
    {
        Assert.NotEqual(0, await RunAsync("recordings", "import", Path.Combine(TestEnvironment.FixtureRecordings, "broken_tool")));
        Assert.Empty(await new RunningRecordRepository(_database.DataSource).ListAsync("broken_tool", CancellationToken.None));
    }

    [Fact]
    public async Task MigrateCreatesTheSchemaOnAnEmptyDatabaseAndASecondRunChangesNothing()
    {
        var name = $"recorder_test_{Environment.ProcessId}_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(TestEnvironment.PostgresConnectionString))
        {
            await admin.ExecuteAsync($"CREATE DATABASE {name}");
        }

        var connectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = name }.ConnectionString;
        try
        {
            Assert.Equal(0, await RecorderCli.RunAsync(["migrate", $"--ConnectionStrings:Recorder={connectionString}"]).WaitAsync(TestEnvironment.Timeout));
            Assert.Equal(0, await RecorderCli.RunAsync(["migrate", $"--ConnectionStrings:Recorder={connectionString}"]).WaitAsync(TestEnvironment.Timeout));

            await using var connection = new NpgsqlConnection(connectionString);
            var tables = (await connection.QueryAsync<string>(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).ToList();
            Assert.Superset(new HashSet<string> { "users", "interactions", "raw", "running_record", "workspace_files", "hub_connections", "hub_instances" }, tables.ToHashSet());
            var scripts = await connection.QueryAsync<string>("SELECT scriptname FROM schemaversions ORDER BY scriptname");
            var embedded = typeof(Recorder.Data.Migrations.DatabaseMigrator).Assembly.GetManifestResourceNames().Count(n => n.EndsWith(".sql", StringComparison.Ordinal));
            Assert.Equal(embedded, scripts.Count()); // each script once, though migrate ran twice
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(TestEnvironment.PostgresConnectionString);
            await admin.ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        }
    }

    [Fact]
    public async Task RecordingsListPrintsEachImportWithItsRecordCount()
    {
        Assert.Equal(0, await RunAsync("recordings", "import", Path.Combine(TestEnvironment.FixtureRecordings, "multi_subtask")));
        var rows = (await new RunningRecordRepository(_database.DataSource).ListAsync("multi_subtask", CancellationToken.None)).Count;

        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, await RunAsync("recordings", "list"));
        }
        finally
        {
            Console.SetOut(original);
        }

        Assert.Contains(output.ToString().Split('\n'), line => line.StartsWith($"multi_subtask\t{rows} records\t", StringComparison.Ordinal));
    }
}
