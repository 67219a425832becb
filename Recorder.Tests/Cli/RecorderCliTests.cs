using Dapper;
using Npgsql;
using Recorder.Data.Recordings;
using Recorder.Data.Users;
using Recorder.Data.Workspace;
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

        var (code, output, _) = await RunCapturedAsync("recordings", "list");
        Assert.Equal(0, code);
        Assert.Contains(output.Split('\n'), line => line.StartsWith($"multi_subtask\t{rows} records\t", StringComparison.Ordinal));

        var (jsonCode, json, _) = await RunCapturedAsync("recordings", "list", "--json");
        Assert.Equal(0, jsonCode);
        var listed = System.Text.Json.JsonDocument.Parse(json).RootElement.EnumerateArray().Single(r => r.GetProperty("record_id").GetString() == "multi_subtask");
        Assert.Equal(rows, listed.GetProperty("rows").GetInt64());
        Assert.Equal(DateTimeKind.Utc, listed.GetProperty("first_time").GetDateTime().Kind);
    }

    [Fact]
    public async Task ImportOfABigFolderPrintsProgressWhenAskedAndIsQuietForJson()
    {
        var folder = Directory.CreateTempSubdirectory("recorder-big-import-").FullName;
        try
        {
            CopyFolder(Path.Combine(TestEnvironment.FixtureRecordings, "multi_subtask"), folder);
            for (var i = 0; i < 2 * ImportProgress.EveryFiles; i++)
            {
                File.WriteAllText(Path.Combine(folder, "workspace", $"generated-{i:D5}.txt"), $"file {i}");
            }

            var total = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count();
            var (code, output, error) = await RunCapturedAsync("recordings", "import", folder, "--record-id", "big", "--progress");
            Assert.Equal(0, code);
            Assert.Equal("big", output.Trim());
            var progress = error.Split('\n', StringSplitOptions.TrimEntries).Where(l => l.StartsWith("read ", StringComparison.Ordinal)).ToList();
            Assert.True(progress.Count >= 3, $"at least a line per {ImportProgress.EveryFiles} files and the last: {error}");
            Assert.StartsWith($"read {total}/{total} files, ", progress[^1], StringComparison.Ordinal);
            Assert.Contains(error.Split('\n', StringSplitOptions.TrimEntries), l => l.StartsWith("storing ", StringComparison.Ordinal));

            // Without --progress and with stderr not a terminal, or with --json: no progress; --json prints the result.
            var (_, _, quiet) = await RunCapturedAsync("recordings", "import", folder, "--record-id", "big");
            Assert.DoesNotContain("read ", quiet, StringComparison.Ordinal);
            var (jsonCode, json, jsonError) = await RunCapturedAsync("recordings", "import", folder, "--record-id", "big", "--json", "--progress");
            Assert.Equal(0, jsonCode);
            Assert.Equal("", jsonError);
            var result = System.Text.Json.JsonDocument.Parse(json).RootElement;
            Assert.Equal("big", result.GetProperty("record_id").GetString());
            Assert.Equal(2 * ImportProgress.EveryFiles + Directory.EnumerateFiles(Path.Combine(TestEnvironment.FixtureRecordings, "multi_subtask", "workspace"), "*", SearchOption.AllDirectories).Count(),
                result.GetProperty("workspace_files").GetInt32());
            Assert.Equal((await new RunningRecordRepository(_database.DataSource).ListAsync("big", CancellationToken.None)).Count, result.GetProperty("records").GetInt32());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>Runs the verb with its output and error written to strings (not the process's console: tests run in parallel).</summary>
    private async Task<(int Code, string Output, string Error)> RunCapturedAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await RecorderCli.RunAsync([.. args, $"--ConnectionStrings:Recorder={_database.ConnectionString}"],
            new System.CommandLine.InvocationConfiguration { Output = output, Error = error }).WaitAsync(TestEnvironment.Timeout);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>A finished interaction last changed <paramref name="age"/> ago with two raws and one workspace file.</summary>
    private async Task<string> InsertFinishedAsync(TimeSpan age, byte[] file)
    {
        await new UserRepository(_database.DataSource).UpsertAsync("prune-user", "token-of-the-test", "", "", true, true, CancellationToken.None).WaitAsync(TestEnvironment.Timeout);
        var id = Guid.NewGuid().ToString("N");
        await using (var connection = await _database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("""
                INSERT INTO interactions (interaction_id, user_id, status, last_seq, update_time) VALUES (@id, 'prune-user', 'finished', 2, now() - @age);
                INSERT INTO raw (interaction_id, seq, node_id, status) VALUES (@id, 1, 'a', 'running'), (@id, 2, 'b', 'finished');
                """, new { id, age }).WaitAsync(TestEnvironment.Timeout);
        }

        await new WorkspaceRepository(_database.DataSource).AddAsync(id, [new("plot.png", file)], CancellationToken.None).WaitAsync(TestEnvironment.Timeout);
        return id;
    }

    private async Task<List<string>> InteractionIdsAsync()
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync();
        return [.. await connection.QueryAsync<string>("SELECT interaction_id FROM interactions ORDER BY interaction_id").WaitAsync(TestEnvironment.Timeout)];
    }

    [Fact]
    public async Task InteractionsPruneDeletesTheOldInteractionsAndPrintsWhatItDeleted()
    {
        var old = await InsertFinishedAsync(TimeSpan.FromDays(31), [1, 2, 3, 4, 5]);
        var recent = await InsertFinishedAsync(TimeSpan.FromDays(29), [6, 7, 8]);

        var (code, output, _) = await RunCapturedAsync("interactions", "prune", "--older-than", "30d");

        Assert.Equal(0, code);
        Assert.Equal("deleted 1 interactions in 1 batches, 2 raws, 1 workspace files and 1 unreferenced file contents (5 bytes)", output.Trim());
        Assert.Equal([recent], await InteractionIdsAsync());
        Assert.DoesNotContain(old, await InteractionIdsAsync());

        // In hours and minutes too; the recent one is 29 days old.
        Assert.Equal(0, (await RunCapturedAsync("interactions", "prune", "--older-than", "720h")).Code);
        Assert.Equal([recent], await InteractionIdsAsync());
        var (_, again, _) = await RunCapturedAsync("interactions", "prune", "--older-than", "41760m", "--batch-size", "1");
        Assert.StartsWith("deleted 1 interactions in 1 batches, 2 raws, 1 workspace files and 1 unreferenced file contents (3 bytes)", again, StringComparison.Ordinal);
        Assert.Empty(await InteractionIdsAsync());
    }

    [Theory]
    [InlineData("30")]
    [InlineData("30x")]
    [InlineData("-1d")]
    [InlineData("0d")]
    [InlineData("1.5d")]
    [InlineData("30 d")]
    [InlineData("30D")]
    [InlineData("36501d")]
    [InlineData("999999999d")]
    [InlineData("")]
    public async Task InteractionsPruneRefusesABadAgeAndDeletesNothing(string age)
    {
        var old = await InsertFinishedAsync(TimeSpan.FromDays(100), [9]);

        var (code, output, error) = await RunCapturedAsync("interactions", "prune", "--older-than", age);

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains($"--older-than: '{age}' is ", error, StringComparison.Ordinal);
        Assert.Contains("Nothing was deleted.", error, StringComparison.Ordinal);
        Assert.Equal([old], await InteractionIdsAsync());
    }

    [Fact]
    public async Task InteractionsPruneWithoutAnAgeOrWithABadBatchSizeDeletesNothing()
    {
        var old = await InsertFinishedAsync(TimeSpan.FromDays(100), [9]);

        var missing = await RunCapturedAsync("interactions", "prune");
        Assert.NotEqual(0, missing.Code);
        Assert.Contains("--older-than", missing.Error + missing.Output, StringComparison.Ordinal);

        var badBatch = await RunCapturedAsync("interactions", "prune", "--older-than", "30d", "--batch-size", "0");
        Assert.Equal(2, badBatch.Code);
        Assert.Contains("--batch-size must be between 1 and 10000", badBatch.Error, StringComparison.Ordinal);
        Assert.Equal([old], await InteractionIdsAsync());
    }
}
