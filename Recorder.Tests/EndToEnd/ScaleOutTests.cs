using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Hub.Delivery;
using Recorder.Hub.Presence;
using Recorder.Hub.Runs;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// A paced hub with the Redis backplane that runs no replays itself (hub and pusher only); the tests start
/// more instances, which do run replays, on the same database and Redis.
/// </summary>
public sealed class RedisHubServer : PacedHubServer
{
    public static readonly KeyValuePair<string, string>[] Runner = [new("Recorder:Runs:MaxConcurrentRuns", "64")];

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        .. base.Settings,
        new("ConnectionStrings:Redis", TestEnvironment.RedisConnectionString),
        new("Recorder:Runs:MaxConcurrentRuns", "0"),
    ];
}

public sealed class ScaleOutTests(RedisHubServer server) : TimedTest, IClassFixture<RedisHubServer>
{
    private static Uri HubUrlOf(WebApplication app) => new(new Uri(app.Urls.First()), RecorderProtocol.HubPath);

    [Theory]
    [InlineData(RecorderWireProtocol.Json)]
    [InlineData(RecorderWireProtocol.MessagePack)]
    public async Task ClientsOnTwoInstancesEachGetEveryRawOnceInOrder(RecorderWireProtocol protocol)
    {
        await using var runner = await server.StartAsync(RedisHubServer.Runner, Ct);
        var (user, token) = await server.NewUserAsync();
        await using var first = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", protocol: protocol), Ct);
        await using var other = await RecorderClient.ConnectAsync(
            server.ClientOptions(user, token, "multi_subtask", first.InteractionId, HubUrlOf(runner), protocol: protocol), Ct);

        var reading = Replays.ReadAllAsync(other, Ct);
        var messages = await Replays.RunToEndAsync(first);
        var otherMessages = await reading.WaitAsync(TestEnvironment.Timeout);

        Replays.AssertGapFreeFromOne(messages);
        Assert.Equal(RecorderStatus.Finished, messages[^1].Status);
        Assert.Equal(messages.Select(m => (m.Seq, m.NodeId, m.Status)), otherMessages.Select(m => (m.Seq, m.NodeId, m.Status)));
        await runner.StopAsync(Ct);
    }

    [Fact]
    public async Task StoppingAnInstanceIsNotHeldUpByItsClientsReconnecting()
    {
        var (user, token) = await server.NewUserAsync();
        string? clientId = null;
        for (var i = 0; i < 5; i++)
        {
            await using var instance = await server.StartAsync(RedisHubServer.Runner, Ct);
            await using var client = await RecorderClient.ConnectAsync(
                server.ClientOptions(user, token, "multi_subtask", clientId, HubUrlOf(instance)), Ct);
            clientId = client.InteractionId;

            // The host's own shutdown timeout is 30 s: a connection opened while stopping would hold it that long.
            await instance.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public async Task WhenTheInstanceRunningTheReplayStopsAnotherContinuesIt()
    {
        await using var runnerA = await server.StartAsync(RedisHubServer.Runner, Ct);
        await using var runnerB = await server.StartAsync(RedisHubServer.Runner, Ct);
        var runners = new[] { runnerA, runnerB }.ToDictionary(a => a.Services.GetRequiredService<InstanceIdentity>().Id);
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording), Ct);
        await client.StartRecorderAsync(Ct);

        string? stoppedOwner = null;
        var stoppedAt = DateTime.MinValue;
        var total = (await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"))).Count;
        var messages = await Replays.ReadAllWithFaultAsync(client, 3, async () =>
        {
            await Replays.AssertRunningMidWayAsync(server, client.InteractionId, total);
            stoppedOwner = await server.QueryScalarAsync<string>(
                "SELECT run_owner FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId });
            await runners[stoppedOwner].StopAsync(Ct);
            stoppedAt = DateTime.UtcNow;
        }, Ct);

        // A graceful stop releases the lease: the other instance continues at once, not when the 3 s lease would have
        // run out (at least 2 s after the stop, since leases are renewed every second).
        var firstAfter = await server.QueryScalarAsync<DateTime>(
            "SELECT min(create_time) FROM raw WHERE interaction_id = @id AND create_time > @stoppedAt", new { id = client.InteractionId, stoppedAt });
        Assert.True(firstAfter - stoppedAt < TimeSpan.FromSeconds(1.8), $"the run went on {firstAfter - stoppedAt} after the stop");

        Replays.AssertGapFreeFromOne(messages);
        Assert.Equal(RecorderStatus.Finished, messages[^1].Status);
        var written = await server.QueryAsync<string>("SELECT status FROM raw WHERE interaction_id = @id ORDER BY seq", new { id = client.InteractionId });
        Assert.Equal(written, messages.Select(m => m.Status));
        Assert.Equal(await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask")), written);
        var finalOwner = await server.QueryScalarAsync<string>(
            "SELECT COALESCE(run_owner, '') FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId });
        Assert.NotNull(stoppedOwner);
        Assert.NotEqual(stoppedOwner, finalOwner);
    }

    [Fact]
    public async Task WhenTheInstanceRunningTheReplayDiesAnotherTakesItOverAfterItsLease()
    {
        var runnerA = await server.StartAsync(RedisHubServer.Runner, Ct);
        var runnerB = await server.StartAsync(RedisHubServer.Runner, Ct);
        var runners = new[] { runnerA, runnerB }.ToDictionary(a => a.Services.GetRequiredService<InstanceIdentity>().Id);
        try
        {
            var (user, token) = await server.NewUserAsync();
            await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording), Ct);
            await client.StartRecorderAsync(Ct);

            string? deadOwner = null;
            var messages = await Replays.ReadAllWithFaultAsync(client, 3, async () =>
            {
                deadOwner = await server.QueryScalarAsync<string>(
                    "SELECT run_owner FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId });

                // No StopAsync: the lease is not released and the instance is not deregistered, as in a crash.
                await runners[deadOwner].DisposeAsync();
                runners.Remove(deadOwner);
            }, Ct);

            Replays.AssertGapFreeFromOne(messages);
            Assert.Equal(await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask")), messages.Select(m => m.Status));
            var finalOwner = await server.QueryScalarAsync<string>(
                "SELECT run_owner FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId });
            Assert.Equal(runners.Keys.Single(), finalOwner);
            Assert.NotEqual(deadOwner, finalOwner);
        }
        finally
        {
            foreach (var runner in runners.Values)
            {
                await runner.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task WhenAHubProcessIsKilledTheSurvivorsTakeItsRunOverAfterTheLeaseAndCleanUpItsRows()
    {
        // The only runner is a process of its own; the client is on the fixture's instance, which runs nothing.
        var crashing = await HubProcess.StartAsync(server, RedisHubServer.Runner, Ct);
        WebApplication? survivor = null;
        try
        {
            var (user, token) = await server.NewUserAsync();
            await using var client = await PlainClient.ConnectAsync(server.HubUrl, user, token, PacedHubServer.Recording, Ct);
            await client.StartRecorderAsync(Ct);
            // Counted where they are committed: on a loaded machine the client may see the first raws late, in a burst.
            const string Committed = "SELECT count(*) FROM raw WHERE interaction_id = @id";
            await Eventually.UntilAsync(() => server.QueryScalarAsync<long>(Committed, new { id = client.InteractionId }), n => n >= 3, TestEnvironment.Timeout, "three raws committed");
            var deadOwner = await server.QueryScalarAsync<string>("SELECT run_owner FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId });
            Assert.Equal(1, await server.QueryScalarAsync<long>("SELECT count(*) FROM hub_instances WHERE instance_id = @deadOwner", new { deadOwner }));

            crashing.Kill(); // SIGKILL: no lease release, no deregistration, sessions cut by the kernel
            var killed = Stopwatch.StartNew();
            var rawsAtKill = await server.QueryScalarAsync<long>(Committed, new { id = client.InteractionId });
            var statusAtKill = await server.QueryScalarAsync<string>("SELECT status FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId });
            Assert.True(statusAtKill == "running", $"the run was '{statusAtKill}' with {rawsAtKill} raws when its runner was killed");
            survivor = await server.StartAsync(RedisHubServer.Runner, Ct);

            // The run stands still until the lease (3 s) runs out, then the survivor continues it from the last raw.
            await Eventually.UntilAsync(() => server.QueryScalarAsync<long>(Committed, new { id = client.InteractionId }), n => n > rawsAtKill, TestEnvironment.Timeout, "the run to continue");
            var interruption = killed.Elapsed;
            await client.Ended.WaitAsync(TestEnvironment.Timeout, Ct);

            var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));
            Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), client.Raws.Select(r => r.Seq));
            Assert.Equal(expected, client.Raws.Select(r => r.Status));
            Assert.Equal(survivor.Services.GetRequiredService<InstanceIdentity>().Id,
                await server.QueryScalarAsync<string>("SELECT run_owner FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId }));
            Assert.InRange(interruption, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(20));

            // The dead instance's row is pruned by the survivors once its heartbeat is older than 3 leases.
            await Eventually.UntilAsync(
                () => server.QueryScalarAsync<long>("SELECT count(*) FROM hub_instances WHERE instance_id = @deadOwner", new { deadOwner }),
                n => n == 0, TestEnvironment.Timeout, "the killed instance's row to be pruned");
        }
        finally
        {
            await crashing.DisposeAsync();
            if (survivor is not null)
            {
                await survivor.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task APlainClientWhoseInstanceStopsResumesOnAnotherAndSeesEverySeqOnceInOrder()
    {
        await using var runner = await server.StartAsync(RedisHubServer.Runner, Ct);
        var holder = await server.StartAsync(Ct);
        var (user, token) = await server.NewUserAsync();
        try
        {
            await using var client = await PlainClient.ConnectAsync(HubUrlOf(holder), user, token, PacedHubServer.Recording, Ct);
            await client.StartRecorderAsync(Ct);
            await Eventually.UntilAsync(() => Task.FromResult(client.Raws.Count), n => n >= 3, TestEnvironment.Timeout, "three raws");

            await holder.StopAsync(Ct);
            await client.ReconnectAsync(server.HubUrl, Ct);
            Assert.False(client.Ended.IsCompleted, "the run ended before the instance holding the client stopped");

            await client.Ended.WaitAsync(TestEnvironment.Timeout, Ct);
            var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));
            Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), client.Raws.Select(r => r.Seq));
            Assert.Equal(expected, client.Raws.Select(r => r.Status));
        }
        finally
        {
            await holder.DisposeAsync();
        }
    }

    [Fact]
    public async Task APlainClientSeesEverySeqOnceInOrderWhenTheInstanceRunningTheReplayDies()
    {
        var runners = new List<WebApplication> { await server.StartAsync(RedisHubServer.Runner, Ct), await server.StartAsync(RedisHubServer.Runner, Ct) };
        var byId = runners.ToDictionary(a => a.Services.GetRequiredService<InstanceIdentity>().Id);
        try
        {
            var (user, token) = await server.NewUserAsync();
            await using var client = await PlainClient.ConnectAsync(server.HubUrl, user, token, PacedHubServer.Recording, Ct);
            await client.StartRecorderAsync(Ct);
            await Eventually.UntilAsync(() => Task.FromResult(client.Raws.Count), n => n >= 3, TestEnvironment.Timeout, "three raws");

            var deadOwner = await server.QueryScalarAsync<string>("SELECT run_owner FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId });
            await byId[deadOwner].DisposeAsync(); // no StopAsync: the lease is neither released nor renewed
            runners.Remove(byId[deadOwner]);
            Assert.False(client.Ended.IsCompleted, "the run ended before its runner died");

            await client.Ended.WaitAsync(TestEnvironment.Timeout, Ct);
            var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));
            Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), client.Raws.Select(r => r.Seq));
            Assert.Equal(expected, client.Raws.Select(r => r.Status));
            Assert.NotEqual(deadOwner, await server.QueryScalarAsync<string>("SELECT run_owner FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId }));
        }
        finally
        {
            foreach (var runner in runners)
            {
                await runner.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AClientStillAttachedWhenItsInteractionIsClosedIsToldAndItsStreamEnds()
    {
        await using var runner = await server.StartAsync(RedisHubServer.Runner, Ct);
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(
            server.ClientOptions(user, token, PacedHubServer.Recording, hubUrl: HubUrlOf(runner)), Ct);
        await client.StartRecorderAsync(Ct);

        var received = new List<long>();
        var error = await Assert.ThrowsAsync<RecorderInteractionClosedException>(async () =>
        {
            try
            {
                await foreach (var message in client.ReadMessagesAsync(Ct))
                {
                    received.Add(message.Seq);
                    if (received.Count == 2)
                    {
                        // The runner stops running and heartbeating (as if cut off from PostgreSQL) but keeps serving
                        // the client; nobody else may run the replay, so the interaction is left alone and closed.
                        await runner.Services.GetRequiredService<RunScheduler>().StopAsync(Ct);
                        await runner.Services.GetRequiredService<PresenceService>().StopAsync(Ct);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Seen once in a full suite run (2026-12-04) and never alone: say where the close got stuck.
                var state = await server.QueryAsync<string>("""
                    SELECT format('interaction: status %s, last_seq %s, detached_since %s ago, run_owner %s; connections: %s; instances: %s',
                        i.status, i.last_seq, now() - i.detached_since, i.run_owner,
                        (SELECT string_agg(h.instance_id || ' since ' || (now() - h.connected_at)::text, ', ') FROM hub_connections h WHERE h.interaction_id = i.interaction_id),
                        (SELECT string_agg(n.instance_id || ' beat ' || (now() - n.heartbeat_at)::text || ' ago', ', ') FROM hub_instances n))
                    FROM interactions i WHERE i.interaction_id = @id
                    """, new { id = client.InteractionId });
                Assert.Fail($"no closed notice after {received.Count} raws ({string.Join(",", received)}); {string.Join("; ", state)}; " +
                            $"the runner's {runner.Services.GetRequiredService<Subscriptions>().Describe(client.InteractionId)}");
            }
        });

        Assert.Equal(client.InteractionId, error.InteractionId);
        var written = await server.QueryAsync<long>("SELECT seq FROM raw WHERE interaction_id = @id ORDER BY seq", new { id = client.InteractionId });
        Assert.Equal(written, received);
        Assert.Equal("closed", await server.QueryScalarAsync<string>(
            "SELECT status FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId }));
    }
}
