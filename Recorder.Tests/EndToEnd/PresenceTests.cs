using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client;
using Recorder.Hub.Runs;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>Who is connected where: an instance's rows of <c>hub_connections</c> follow the connections it really holds.</summary>
public sealed class PresenceTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    [Fact]
    public async Task AnInstancePrunedByAPeerWhileItsHeartbeatWasLateGetsItsConnectionsBackAtOnce()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        var id = client.InteractionId;
        var instance = server.Services.GetRequiredService<InstanceIdentity>().Id;

        // What a peer's prune does to an instance it believed dead: its row and its connections go, the grace starts.
        await using (var connection = await server.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("""
                DELETE FROM hub_connections WHERE instance_id = @instance;
                DELETE FROM hub_instances WHERE instance_id = @instance;
                UPDATE interactions SET detached_since = now() WHERE interaction_id = @id;
                """, new { instance, id });
        }

        // The next heartbeat has to create the row again, which tells the instance to reconcile (the periodic safety
        // net would take a minute, well past this deadline and past the 2 s grace the reaper then applies).
        await Eventually.UntilAsync(
            () => server.QueryScalarAsync<bool>(
                "SELECT EXISTS (SELECT 1 FROM hub_connections WHERE interaction_id = @id AND instance_id = @instance) " +
                "AND (SELECT detached_since IS NULL AND status = 'waiting' FROM interactions WHERE interaction_id = @id)",
                new { id, instance }),
            back => back, TimeSpan.FromSeconds(10), "the connection recorded again and the grace stopped");
    }
}
