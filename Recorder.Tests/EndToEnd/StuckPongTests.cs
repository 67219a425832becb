using System.Diagnostics;
using Recorder.Client;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A hub with the slow-consumer settings of <see cref="SlowConsumerHubServer"/> and a pong every 200 ms.</summary>
public sealed class FastPongHubServer : HubServer
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Recorder:Runs:MaxConcurrentRuns", "0"),
        new("Recorder:Delivery:OutboxCapacity", "64"),
        new("Recorder:Delivery:SlowConsumerTimeout", SlowConsumerHubServer.SlowConsumerTimeout.ToString()),
        new("Recorder:PongInterval", "00:00:00.200"),
    ];
}

/// <summary>The periodic pong goes to every connection of the instance; one that does not read holds up no other's.</summary>
public sealed class StuckPongTests(FastPongHubServer server) : TimedTest(TestEnvironment.Timeout * 2), IClassFixture<FastPongHubServer>
{
    [Fact]
    public async Task PongsKeepComingToOtherConnectionsWhileOneIsStuck()
    {
        var (socket, _) = await StuckConnection.OpenAsync(server, Ct);
        using var slow = socket;
        var stuck = Stopwatch.StartNew();

        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        var before = client.Pongs;
        await Task.Delay(TimeSpan.FromSeconds(2), Ct); // an observation window: ten pong intervals
        Assert.True(stuck.Elapsed < SlowConsumerHubServer.SlowConsumerTimeout, "measured after the stuck connection was closed");
        Assert.True(client.Pongs - before >= 4, $"{client.Pongs - before} pongs in 2 s at a 200 ms interval while one connection was stuck");
    }
}
