using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client.Contracts;
using Recorder.Hub.Runs;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// The XAgent web socket across instances on one PostgreSQL and one Redis: a socket that drops on the instance running
/// its replay re-attaches on another with <c>after_seq</c>; an interaction started over the socket is resumed from the hub
/// on another instance; a socket whose instance stops (with the run) continues on another, which takes the run over.
/// Each seq once, in order, through <c>finished</c>, then the server's close 1000.
/// </summary>
public sealed class XAgentWebScaleOutTests(RedisHubServer server) : TimedTest, IClassFixture<RedisHubServer>
{
    private static Uri BaseOf(WebApplication app) => new(app.Urls.First());

    private static string IdOf(WebApplication app) => app.Services.GetRequiredService<InstanceIdentity>().Id;

    private Task<List<string>> ExpectedAsync() => Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));

    private Task<string> RunOwnerAsync(string clientId) =>
        server.QueryScalarAsync<string>("SELECT COALESCE(run_owner, '') FROM interactions WHERE interaction_id = @clientId", new { clientId });

    /// <summary>
    /// Until the run has written <paramref name="written"/> raws and the socket has one: the fault comes mid-run by the
    /// run's progress, not by the frames' arrival (on a loaded machine the socket may lag the run by seconds).
    /// </summary>
    private async Task MidRunAsync(XAgentWebClient socket, string clientId, long written)
    {
        await socket.UntilAsync(f => f.Any(x => x.Seq > 0), Ct);
        await Eventually.UntilAsync(
            () => server.QueryScalarAsync<long>("SELECT last_seq FROM interactions WHERE interaction_id = @clientId", new { clientId }),
            n => n >= written, TestEnvironment.Timeout, $"{written} raws written");
    }

    [Fact]
    public async Task ASocketDroppedOnTheInstanceRunningItsReplayReattachesOnAnotherWithAfterSeqAndGetsTheRestOnceInOrder()
    {
        await using var a = await server.StartAsync(RedisHubServer.Runner, Ct);
        await using var b = await server.StartAsync(RedisHubServer.Runner, Ct);
        var expected = await ExpectedAsync();
        var (user, token) = await server.NewUserAsync();
        var clientId = Guid.NewGuid().ToString();
        List<XAgentWebClient.Frame> before;
        await using (var first = await XAgentWebClient.ConnectAsync(BaseOf(a), clientId, XAgentWebClient.Query(user, token, PacedHubServer.Recording), Ct))
        {
            await MidRunAsync(first, clientId, 4);
            await Replays.AssertRunningMidWayAsync(server, clientId, expected.Count);
            Assert.Equal(IdOf(a), await RunOwnerAsync(clientId));
            first.Drop();
            before = [.. first.Raws];
        }

        // The UI does not wait for the run to end: it comes back at once, on the other instance, after the last seq it has.
        var last = before[^1].Seq;
        await using var second = await XAgentWebClient.ConnectAsync(BaseOf(b), clientId,
            XAgentWebClient.Query(user, token, PacedHubServer.Recording, last), Ct, closeAtEnd: false);
        await second.Closed.WaitAsync(TestEnvironment.Timeout);

        var frames = second.Frames;
        Assert.Equal("connect", frames[0].Status);
        Assert.Equal(clientId, frames[0].Json.GetProperty("data").GetProperty("interaction_id").GetString());
        var after = second.Raws;
        Assert.True(after.Count > 0 && after[0].Seq == last + 1,
            $"after seq {last} on A, B's socket began at {(after.Count > 0 ? after[0].Seq : "nothing")}");
        var seen = before.Concat(after).ToList();
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), seen.Select(f => f.Seq));
        Assert.Equal(expected, seen.Select(f => f.Status));

        // finished is the last frame; the server closes 1000 by itself (this client does not close), with the status as reason.
        Assert.Equal(RecorderStatus.Finished, frames[^1].Status);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, second.CloseStatus);
        Assert.Equal(RecorderStatus.Finished, second.CloseReason);
        Assert.Equal("finished", await server.QueryScalarAsync<string>("SELECT status FROM interactions WHERE interaction_id = @clientId", new { clientId }));
        Assert.Equal(IdOf(a), await RunOwnerAsync(clientId));
    }

    [Fact]
    public async Task AnInteractionStartedOverTheSocketOnOneInstanceIsResumedFromTheHubOnAnotherEachSeqOnceInOrder()
    {
        await using var a = await server.StartAsync(RedisHubServer.Runner, Ct);
        await using var b = await server.StartAsync(RedisHubServer.Runner, Ct);
        var expected = await ExpectedAsync();
        var (user, token) = await server.NewUserAsync();
        var clientId = Guid.NewGuid().ToString("N");
        List<long> overSocket;
        await using (var socket = await XAgentWebClient.ConnectAsync(BaseOf(a), clientId, XAgentWebClient.Query(user, token, PacedHubServer.Recording), Ct))
        {
            await MidRunAsync(socket, clientId, 3);
            await Replays.AssertRunningMidWayAsync(server, clientId, expected.Count);
            Assert.Equal(IdOf(a), await RunOwnerAsync(clientId));
            await socket.DisconnectAsync(Ct); // the UI's disconnect, then its close
            await socket.Closed.WaitAsync(TestEnvironment.Timeout);
            overSocket = [.. socket.Raws.Select(f => f.Seq)];
        }

        var hubOnB = new Uri(BaseOf(b), RecorderProtocol.HubPath);
        await using var hub = await PlainClient.ConnectAsync(hubOnB, user, token, PacedHubServer.Recording, Ct, interactionId: clientId);
        await hub.ResumeAsync(overSocket[^1], Ct);
        await hub.Ended.WaitAsync(TestEnvironment.Timeout);

        Assert.True(hub.Raws.Count > 0 && hub.Raws[0].Seq == overSocket[^1] + 1,
            $"after seq {overSocket[^1]} over the socket, the hub on B began at {(hub.Raws.Count > 0 ? hub.Raws[0].Seq : "nothing")}");
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), overSocket.Concat(hub.Raws.Select(r => r.Seq)));
        Assert.Equal(expected[overSocket.Count..], hub.Raws.Select(r => r.Status));
    }

    [Fact]
    public async Task WhenTheInstanceHoldingTheSocketAndTheRunStopsTheUiReconnectingToAnotherContinuesAndTheRunIsTakenOver()
    {
        var a = await server.StartAsync(RedisHubServer.Runner, Ct);
        await using var b = await server.StartAsync(RedisHubServer.Runner, Ct);
        var idOfA = IdOf(a);
        var expected = await ExpectedAsync();
        var (user, token) = await server.NewUserAsync();
        var clientId = Guid.NewGuid().ToString();
        List<XAgentWebClient.Frame> before;
        try
        {
            await using var first = await XAgentWebClient.ConnectAsync(BaseOf(a), clientId, XAgentWebClient.Query(user, token, PacedHubServer.Recording), Ct);
            await MidRunAsync(first, clientId, 3);
            await Replays.AssertRunningMidWayAsync(server, clientId, expected.Count);
            Assert.Equal(idOfA, await RunOwnerAsync(clientId));

            await a.StopAsync(Ct).WaitAsync(TestEnvironment.Timeout);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await XAgentWebSocketTests.CloseOfAsync(first));
            before = [.. first.Raws];
        }
        finally
        {
            await a.DisposeAsync();
        }

        var last = before[^1].Seq;
        Assert.True(last < expected.Count, $"the run was over ({last} of {expected.Count}) when A stopped");
        await using var second = await XAgentWebClient.ConnectAsync(BaseOf(b), clientId,
            XAgentWebClient.Query(user, token, PacedHubServer.Recording, last), Ct, closeAtEnd: false);
        await second.Closed.WaitAsync(TestEnvironment.Timeout);

        var after = second.Raws;
        var seen = before.Concat(after).ToList();
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), seen.Select(f => f.Seq));
        Assert.Equal(expected, seen.Select(f => f.Status));
        Assert.Equal(RecorderStatus.Finished, second.Frames[^1].Status);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, second.CloseStatus);
        Assert.Equal(RecorderStatus.Finished, second.CloseReason);

        // A wrote the first raws and released the lease when it stopped; B wrote the rest.
        var writers = await server.QueryAsync<(string Status, string Owner)>(
            "SELECT status, COALESCE(run_owner, '') FROM interactions WHERE interaction_id = @clientId", new { clientId });
        Assert.Equal(("finished", IdOf(b)), writers.Single());
    }
}
