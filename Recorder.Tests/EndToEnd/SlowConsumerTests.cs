using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A hub that runs no replays (the tests write raws), with small outboxes and a short slow-consumer timeout.</summary>
public sealed class SlowConsumerHubServer : HubServer
{
    public static readonly TimeSpan SlowConsumerTimeout = TimeSpan.FromSeconds(5);

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Recorder:Runs:MaxConcurrentRuns", "0"),
        new("Recorder:Delivery:OutboxCapacity", "64"),
        new("Recorder:Delivery:SlowConsumerTimeout", SlowConsumerTimeout.ToString()),
    ];
}

public sealed class SlowConsumerTests(SlowConsumerHubServer server) : TimedTest(TestEnvironment.Timeout * 2), IClassFixture<SlowConsumerHubServer>
{
    [Fact]
    public async Task AConnectionThatStopsReadingDelaysNoOtherAndIsClosedAfterTheTimeout()
    {
        var (socket, slowId) = await StuckConnection.OpenAsync(server, Ct);
        using var slow = socket;
        var stuckSince = Stopwatch.StartNew();

        // Meanwhile another interaction is delivered as if the slow one did not exist.
        var (user, token) = await server.NewUserAsync();
        await using var client = await PlainClient.ConnectAsync(server.HubUrl, user, token, "multi_subtask", Ct);
        var worst = TimeSpan.Zero;
        for (var seq = 1; seq <= 10; seq++)
        {
            var clock = Stopwatch.StartNew();
            await StuckConnection.WriteAsync(server, client.InteractionId, seq, seq, 16, Ct);
            await Eventually.UntilAsync(() => Task.FromResult(client.LastSeq), last => last == seq, TestEnvironment.Timeout, $"seq {seq}");
            worst = clock.Elapsed > worst ? clock.Elapsed : worst;
        }

        Assert.True(stuckSince.Elapsed < SlowConsumerHubServer.SlowConsumerTimeout, "the other client was measured after the slow one was closed");
        Assert.True(worst < TimeSpan.FromSeconds(1), $"a raw of the other interaction took {worst} while one connection did not read");
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), client.Raws.Select(r => r.Seq));

        // The slow one is closed by the server once it has taken nothing for the timeout (and detached); reading now
        // finds what the socket buffers held, then the end, well short of every raw.
        await Eventually.UntilAsync(
            () => server.QueryScalarAsync<long>("SELECT count(*) FROM hub_connections WHERE interaction_id = @slowId", new { slowId }),
            n => n == 0, TestEnvironment.Timeout, "the slow connection to be closed");
        Assert.True(stuckSince.Elapsed >= SlowConsumerHubServer.SlowConsumerTimeout - TimeSpan.FromSeconds(1), $"closed after {stuckSince.Elapsed}");
        var received = await ReadUntilClosedAsync(slow);
        Assert.InRange(received, 1, StuckConnection.Raws - 1);
    }

    /// <summary>Reads the socket until the server has ended it; returns the number of raw messages it carried.</summary>
    private static async Task<int> ReadUntilClosedAsync(ClientWebSocket socket)
    {
        using var deadline = new CancellationTokenSource(TestEnvironment.Timeout);
        var buffer = new byte[1 << 16];
        var raws = 0;
        var tail = "";
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, deadline.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return raws;
                }

                var frames = (tail + Encoding.UTF8.GetString(buffer, 0, result.Count)).Split('\u001e');
                tail = frames[^1];
                raws += frames[..^1].Count(f => f.Contains("\"status\":\"inner\"", StringComparison.Ordinal));
            }
        }
        catch (WebSocketException) when (!deadline.IsCancellationRequested)
        {
            return raws; // the server reset the connection
        }
    }
}
