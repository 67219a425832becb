using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A hub that runs nothing (no raws get in the way) and pongs every 300 ms.</summary>
public sealed class SocketPongHubServer : HubServer
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(300);

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("Recorder:Runs:MaxConcurrentRuns", "0"), new("Recorder:PongInterval", Interval.ToString())];
}

/// <summary>The XAgent web socket's keep-alive: pongs from the run's start, a lone ping answered, the UI's answering pings not.</summary>
public sealed class XAgentWebPongTests(SocketPongHubServer server) : TimedTest, IClassFixture<SocketPongHubServer>
{
    [Fact]
    public async Task PongsComeAtTheIntervalOnceTheRunIsRequestedAndTheUisAnsweringPingsDoNotBounce()
    {
        var (user, token) = await server.NewUserAsync();
        var started = DateTime.UtcNow;
        await using var client = await XAgentWebClient.ConnectAsync(server.BaseUrl, Guid.NewGuid().ToString("N"), XAgentWebClient.Query(user, token, "multi_subtask"), Ct);
        await client.UntilAsync(f => f.Count(x => x.Type == "pong") >= 4, Ct);
        var elapsed = DateTime.UtcNow - started;

        var pongs = client.Frames.Count(f => f.Type == "pong");
        Assert.Equal("{\n  \"type\": \"pong\"\n}", client.Frames.First(f => f.Type == "pong").Text);
        Assert.InRange(pongs, 4, (int)(elapsed / SocketPongHubServer.Interval) + 1);
        Assert.True(client.Sent.Count(s => s.Contains("ping", StringComparison.Ordinal)) >= 4, "the client answered each pong with a ping");
    }

    [Fact]
    public async Task BeforeTheRunIsRequestedNoPongComesButALonePingIsAnswered()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await XAgentWebClient.ConnectAsync(server.BaseUrl, Guid.NewGuid().ToString("N"), XAgentWebClient.Query(user, token, "multi_subtask"), Ct,
            sendRecorder: false, answerPongs: false);
        Assert.Equal("connect", (await client.First.WaitAsync(TestEnvironment.Timeout)).Status);

        await Task.Delay(SocketPongHubServer.Interval * 4, Ct); // the absence of pongs is what is measured: a fixed window
        Assert.DoesNotContain(client.Frames, f => f.Type == "pong");

        await client.SendAsync("""{"type":"ping"}""", Ct);
        await client.UntilAsync(f => f.Any(x => x.Type == "pong"), Ct);
        Assert.Equal(["connect", null], client.Frames.Select(f => f.Status));
    }
}
