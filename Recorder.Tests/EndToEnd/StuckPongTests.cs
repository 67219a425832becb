using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client;
using Recorder.Hub.Delivery;
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
public sealed class StuckPongTests(FastPongHubServer server) : IClassFixture<FastPongHubServer>
{
    private static CancellationToken Ct => new CancellationTokenSource(TestEnvironment.Timeout * 2).Token;

    [Fact]
    public async Task PongsKeepComingToOtherConnectionsWhileOneIsStuck()
    {
        // The stuck one: a WebSocket that completes SignalR's handshake, then never reads, with far more queued for it
        // than the socket buffers hold.
        var (slowUser, slowToken) = await server.NewUserAsync();
        var slowId = Guid.NewGuid().ToString("N");
        using var slow = new ClientWebSocket();
        await slow.ConnectAsync(new UriBuilder(server.HubUrl)
        {
            Scheme = "ws",
            Query = $"user_id={slowUser}&token={slowToken}&recorder_dir=multi_subtask&client_id={slowId}",
        }.Uri, Ct);
        await slow.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, Ct);
        await Eventually.UntilAsync(
            () => server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE interaction_id = @slowId", new { slowId }),
            n => n == 1, TestEnvironment.Timeout, "the stuck connection's interaction");
        await using (var connection = await server.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("""
                WITH s AS (UPDATE interactions SET last_seq = 1500 WHERE interaction_id = @slowId AND last_seq = 0 RETURNING interaction_id)
                INSERT INTO raw (interaction_id, seq, node_id, status, data)
                SELECT interaction_id, g, md5(g::text), 'inner', jsonb_build_object('blob', repeat('x', 32768)) FROM s, generate_series(1, 1500) g
                """, new { slowId });
        }

        var subscriptions = server.Services.GetRequiredService<Subscriptions>();
        // Stuck: its writes stopped and envelopes wait. With its socket buffers full the outbox holds more than half of
        // its 64 (it is refilled whenever it drains to half, so "full" is not a state it has to stay in).
        await Eventually.UntilAsync(() => Task.FromResult(subscriptions.Queued), n => n > 32, TestEnvironment.Timeout, "the stuck connection's outbox to fill");
        var stuck = Stopwatch.StartNew();

        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        var before = client.Pongs;
        await Task.Delay(TimeSpan.FromSeconds(2), Ct); // an observation window: ten pong intervals
        Assert.True(stuck.Elapsed < SlowConsumerHubServer.SlowConsumerTimeout, "measured after the stuck connection was closed");
        Assert.True(client.Pongs - before >= 4, $"{client.Pongs - before} pongs in 2 s at a 200 ms interval while one connection was stuck");
    }
}
