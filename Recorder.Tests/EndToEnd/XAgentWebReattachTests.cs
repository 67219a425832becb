using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// The XAgent web socket on the hub's interactions, runs and delivery: a socket that drops mid-run re-attaches with its
/// client_id and <c>after_seq</c> with no gap or repeat; an interaction started over the socket is resumed from the hub.
/// </summary>
public sealed class XAgentWebReattachTests(PacedHubServer server) : TimedTest, IClassFixture<PacedHubServer>
{
    private async Task<int> TotalRawsAsync() =>
        (await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"))).Count;

    [Fact]
    public async Task ASocketDroppedMidRunReattachesWithAfterSeqAndGetsTheRestWithNoGapOrRepeat()
    {
        var total = await TotalRawsAsync();
        var (user, token) = await server.NewUserAsync();
        var clientId = Guid.NewGuid().ToString();
        List<XAgentWebClient.Frame> before;
        await using (var first = await XAgentWebClient.ConnectAsync(server.BaseUrl, clientId, XAgentWebClient.Query(user, token, PacedHubServer.Recording), Ct))
        {
            await first.UntilAsync(f => f.Count(x => x.Seq > 0) >= 4, Ct);
            await Replays.AssertRunningMidWayAsync(server, clientId, total);
            first.Drop();
            before = [.. first.Raws];
        }

        var last = before[^1].Seq;
        await using var second = await XAgentWebClient.ConnectAsync(server.BaseUrl, clientId, XAgentWebClient.Query(user, token, PacedHubServer.Recording, last), Ct);
        await second.Closed.WaitAsync(TestEnvironment.Timeout);

        var connect = second.Frames[0];
        Assert.Equal("connect", connect.Status);
        Assert.Equal(clientId, connect.Json.GetProperty("data").GetProperty("interaction_id").GetString());
        var after = second.Raws;
        Assert.Equal(last + 1, after[0].Seq);
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), before.Concat(after).Select(f => f.Seq));
        Assert.Equal(RecorderStatus.Finished, after[^1].Status);
        Assert.Equal("finished", await server.QueryScalarAsync<string>("SELECT status FROM interactions WHERE interaction_id = @clientId", new { clientId }));
    }

    [Fact]
    public async Task AnInteractionStartedOverTheSocketIsResumedFromTheHubWithNoGapOrRepeat()
    {
        var total = await TotalRawsAsync();
        var (user, token) = await server.NewUserAsync();
        var clientId = Guid.NewGuid().ToString("N");
        List<long> overSocket;
        await using (var socket = await XAgentWebClient.ConnectAsync(server.BaseUrl, clientId, XAgentWebClient.Query(user, token, PacedHubServer.Recording), Ct))
        {
            await socket.UntilAsync(f => f.Count(x => x.Seq > 0) >= 3, Ct);
            await Replays.AssertRunningMidWayAsync(server, clientId, total);
            await socket.DisconnectAsync(Ct); // the UI's disconnect, then its close
            await socket.Closed.WaitAsync(TestEnvironment.Timeout);
            overSocket = [.. socket.Raws.Select(f => f.Seq)];
        }

        await using var hub = await PlainClient.ConnectAsync(server.HubUrl, user, token, PacedHubServer.Recording, Ct, interactionId: clientId);
        await hub.ResumeAsync(overSocket[^1], Ct);
        await hub.Ended.WaitAsync(TestEnvironment.Timeout);

        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), overSocket.Concat(hub.Raws.Select(r => r.Seq)));
        Assert.Equal(RecorderStatus.Finished, hub.Raws[^1].Status);
    }
}
