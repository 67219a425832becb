using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A hub whose safety-net sweep is too slow to matter: delivery must come from the NOTIFY wake-up.</summary>
public sealed class NoSweepHubServer : HubServer
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Recorder:Delivery:SweepInterval", "00:01:00"),
        new("Recorder:PongInterval", "00:00:00.200"),
    ];
}

public sealed class DeliveryTests(NoSweepHubServer server) : TimedTest, IClassFixture<NoSweepHubServer>
{
    [Fact]
    public async Task RawsArriveOnTheNotificationWithoutWaitingForTheSweep()
    {
        // The whole run must arrive well inside the test timeout (30 s), half the sweep interval.
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        var messages = await Replays.RunToEndAsync(client);

        Replays.AssertGapFreeFromOne(messages);
        Assert.Equal(RecorderStatus.Finished, messages[^1].Status);
    }

    [Fact]
    public async Task TheServerSendsPongsOnItsOwn()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        await Eventually.UntilAsync(() => Task.FromResult(client.Pongs), n => n >= 2, TestEnvironment.Timeout, "two pongs");
    }

    [Fact]
    public async Task AFirstConnectIsRetriedAfterATransientFailure()
    {
        var (user, token) = await server.NewUserAsync();
        var attempts = 0;
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask") with
        {
            ConnectAttempts = 3,
            SkipNegotiation = false,
            ConfigureHttpConnection = http => http.HttpMessageHandlerFactory = inner => new FailFirstHandler(inner, () => ++attempts),
        }, Ct);

        Assert.Equal(RecorderStatus.Connect, client.Connected.Status);
        Assert.True(attempts >= 2, $"expected a retry, saw {attempts} negotiate attempts");
    }

    [Fact]
    public async Task AFirstConnectWithoutNegotiateIsRetriedAfterATransientFailure()
    {
        var (user, token) = await server.NewUserAsync();
        var attempts = 0;
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask") with
        {
            ConnectAttempts = 3,
            ConfigureHttpConnection = http => http.WebSocketFactory = async (context, ct) =>
            {
                if (Interlocked.Increment(ref attempts) == 1)
                {
                    throw new System.Net.WebSockets.WebSocketException("simulated network failure");
                }

                var socket = new System.Net.WebSockets.ClientWebSocket();
                foreach (var header in http.Headers)
                {
                    socket.Options.SetRequestHeader(header.Key, header.Value);
                }

                await socket.ConnectAsync(context.Uri, ct);
                return socket;
            },
        }, Ct);

        Assert.Equal(RecorderStatus.Connect, client.Connected.Status);
        Assert.Equal(2, attempts);
    }

    /// <summary>Fails the first request as a dropped network would.</summary>
    private sealed class FailFirstHandler(HttpMessageHandler inner, Func<int> count) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            count() == 1
                ? throw new HttpRequestException("simulated network failure")
                : base.SendAsync(request, cancellationToken);
    }
}
