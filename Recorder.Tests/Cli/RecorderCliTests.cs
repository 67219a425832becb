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
        Assert.Equal(0, await RunAsync("users", "add", "cli-user", "--token", "first"));
        Assert.Equal(0, await RunAsync("users", "add", "cli-user", "--token", "second"));

        var user = await new UserRepository(_database.DataSource).FindAsync("cli-user", CancellationToken.None);
        Assert.NotNull(user);
        Assert.True(TokenHash.Matches("second", user.TokenHash));
        Assert.False(TokenHash.Matches("first", user.TokenHash));
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
}
