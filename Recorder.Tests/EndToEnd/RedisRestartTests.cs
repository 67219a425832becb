using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A hub-only instance on a Redis of its own, which the tests restart; runners are started by the tests.</summary>
public sealed class OwnRedisHubServer : PacedHubServer
{
    public RedisProcess Redis { get; private set; } = null!;

    public KeyValuePair<string, string>[] Runner => [new("Recorder:Runs:MaxConcurrentRuns", "64")];

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        .. base.Settings,
        new("ConnectionStrings:Redis", Redis.ConnectionString),
        new("Recorder:Runs:MaxConcurrentRuns", "0"),
    ];

    public override async Task InitializeAsync()
    {
        Redis = await RedisProcess.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

public sealed class RedisRestartTests(OwnRedisHubServer server) : TimedTest, IClassFixture<OwnRedisHubServer>
{
    [Fact]
    public async Task ARedisRestartMidRunLosesAndRepeatsNothing()
    {
        // The run executes on the runner; the client is on the hub-only instance: every push crosses Redis.
        await using var runner = await server.StartAsync(server.Runner, Ct);
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(
            server.ClientOptions(user, token, PacedHubServer.Recording), Ct);
        await client.StartRecorderAsync(Ct);

        var total = (await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"))).Count;
        using var patience = new CancellationTokenSource(TestEnvironment.Timeout * 2);
        var messages = await Replays.ReadAllWithFaultAsync(client, 3, async () =>
        {
            await Replays.AssertRunningMidWayAsync(server, client.InteractionId, total); // the restart hits a live run
            await server.Redis.RestartAsync(TimeSpan.FromSeconds(1));
        }, patience.Token);

        Replays.AssertGapFreeFromOne(messages);
        Assert.Equal(RecorderStatus.Finished, messages[^1].Status);
        var written = await server.QueryAsync<string>("SELECT status FROM raw WHERE interaction_id = @id ORDER BY seq", new { id = client.InteractionId });
        Assert.Equal(written, messages.Select(m => m.Status));
        Assert.Equal(await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask")), written);
    }
}
