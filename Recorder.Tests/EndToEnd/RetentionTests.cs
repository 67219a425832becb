using Dapper;
using Microsoft.Extensions.Options;
using Recorder.Data.Workspace;
using Recorder.Hub;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

public sealed class RetentionTests(RetentionHubServer server) : IClassFixture<RetentionHubServer>
{
    private async Task<string> InsertAsync(string status, TimeSpan age)
    {
        var (user, _) = await server.NewUserAsync();
        var id = Guid.NewGuid().ToString("N");
        await using (var connection = await server.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("""
                INSERT INTO interactions (interaction_id, user_id, status, last_seq) VALUES (@id, @user, @status, 1);
                INSERT INTO raw (interaction_id, seq, node_id, status) VALUES (@id, 1, 'a', 'running');
                """, new { id, user, status }).WaitAsync(TestEnvironment.Timeout);
            await new WorkspaceRepository(server.Database.DataSource).AddAsync(id, [new("f.bin", Guid.NewGuid().ToByteArray())], CancellationToken.None).WaitAsync(TestEnvironment.Timeout);

            // Aged only once whole: the hub's pruning runs all along and may take an old interaction at once.
            await connection.ExecuteAsync("UPDATE interactions SET update_time = now() - @age WHERE interaction_id = @id", new { id, age }).WaitAsync(TestEnvironment.Timeout);
        }

        return id;
    }

    [Fact]
    public async Task TheHubPrunesInteractionsOlderThanMaxAgeAndKeepsTheOthers()
    {
        var old = await InsertAsync("finished", TimeSpan.FromHours(2));
        var oldRunning = await InsertAsync("running", TimeSpan.FromHours(2));
        var recent = await InsertAsync("failed", TimeSpan.FromMinutes(30));
        var ids = new[] { old, oldRunning, recent };

        var remaining = await Eventually.UntilAsync(
            () => server.QueryAsync<string>("SELECT interaction_id FROM interactions WHERE interaction_id = ANY(@ids)", new { ids }),
            rows => !rows.Contains(old), TestEnvironment.Timeout, "the old finished interaction to be pruned");

        Assert.Equal(new[] { oldRunning, recent }.Order(StringComparer.Ordinal), remaining.Order(StringComparer.Ordinal));
        Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM raw WHERE interaction_id = @old", new { old }));
        Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM workspace_files WHERE interaction_id = @old", new { old }));
        Assert.Equal(2, await server.QueryScalarAsync<long>("SELECT count(*) FROM workspace_files WHERE interaction_id = ANY(@ids)", new { ids }));
    }

    [Theory]
    [InlineData("30")]
    [InlineData("abc")]
    [InlineData("0m")]
    public async Task ABadMaxAgeStopsTheStartNamingTheKey(string maxAge)
    {
        await using var app = RecorderApp.Build([
            "--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None",
            "--ConnectionStrings:Recorder=Host=127.0.0.1;Port=1;Database=none", $"--Recorder:Retention:MaxAge={maxAge}"]);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"Recorder:Retention:MaxAge: '{maxAge}' is ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Recorder:Retention:BatchSize", "0", "Recorder:Retention:BatchSize must be between 1 and 10000.")]
    [InlineData("Recorder:Retention:Interval", "00:00:00", "Recorder:Retention:Interval must be between")]
    public async Task AnOutOfRangeRetentionSettingStopsTheStartNamingTheKey(string key, string value, string message)
    {
        await using var app = RecorderApp.Build([
            "--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None",
            "--ConnectionStrings:Recorder=Host=127.0.0.1;Port=1;Database=none", $"--{key}={value}"]);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
