using Dapper;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A hub that runs no replays: the tests write raws themselves.</summary>
public sealed class NoRunHubServer : HubServer
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Recorder:Runs:MaxConcurrentRuns", "0")];
}

public sealed class ResyncTests(NoRunHubServer server) : TimedTest, IClassFixture<NoRunHubServer>
{
    // A raw committed with the triggers off (session_replication_role = replica): no notification is sent, as if the
    // listener had missed it. Only the delivery's sweep can find it.
    private const string WriteSilentlySql = """
        SET session_replication_role = replica;
        WITH s AS (UPDATE interactions SET last_seq = @seq WHERE interaction_id = @id AND last_seq = @seq - 1 RETURNING interaction_id)
        INSERT INTO raw (interaction_id, seq, node_id, status, data)
        SELECT interaction_id, @seq, md5(random()::text), @status, '[]'::jsonb FROM s;
        RESET session_replication_role;
        """;

    private async Task WriteSilentlyAsync(string id, long seq, string status)
    {
        await using var connection = await server.Database.DataSource.OpenConnectionAsync(Ct);
        Assert.Equal(1, await connection.ExecuteAsync(WriteSilentlySql, new { id, seq, status }));
    }

    [Theory]
    [InlineData(RecorderWireProtocol.Json)]
    [InlineData(RecorderWireProtocol.MessagePack)]
    public async Task RawsCommittedWithoutANotificationAreDeliveredByTheSweep(RecorderWireProtocol protocol)
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", protocol: protocol), Ct);

        await WriteSilentlyAsync(client.InteractionId, 1, RecorderStatus.Running);
        await WriteSilentlyAsync(client.InteractionId, 2, RecorderStatus.Inner);
        await WriteSilentlyAsync(client.InteractionId, 3, RecorderStatus.Finished);

        var messages = await Replays.ReadAllAsync(client, Ct);
        Assert.Equal([1L, 2, 3], messages.Select(m => m.Seq));
        Assert.Equal([RecorderStatus.Running, RecorderStatus.Inner, RecorderStatus.Finished], messages.Select(m => m.Status));
    }

    [Fact]
    public async Task TheSweepReReadsEveryInteractionInTurnWhenItMayReadOnlyOnePerTick()
    {
        // An instance whose sweep re-reads one interaction's state per tick: three silent raws still all arrive.
        await using var instance = await server.StartAsync([new("Recorder:Delivery:SweepBatch", "1")], Ct);
        var hubUrl = new Uri(new Uri(instance.Urls.First()), RecorderProtocol.HubPath);
        var clients = new List<RecorderClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var (user, token) = await server.NewUserAsync();
                clients.Add(await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", hubUrl: hubUrl), Ct));
            }

            foreach (var client in clients)
            {
                await WriteSilentlyAsync(client.InteractionId, 1, RecorderStatus.Failed);
            }

            foreach (var client in clients)
            {
                var messages = await Replays.ReadAllAsync(client, Ct);
                Assert.Equal([1L], messages.Select(m => m.Seq));
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData(Recorder.Data.Raws.RawRow.MaxDataDepth)] // the deepest sent as it is: a .NET client must still read it
    [InlineData(Recorder.Data.Raws.RawRow.MaxDataDepth + 1)]
    [InlineData(100)]
    [InlineData(2000)]
    public async Task ARawNestedDeeperThanJsonReadersLikeIsDeliveredAndStallsNoOne(int depth)
    {
        var (deepUser, deepToken) = await server.NewUserAsync();
        await using var deep = await PlainClient.ConnectAsync(server.HubUrl, deepUser, deepToken, "multi_subtask", Ct);
        var (user, token) = await server.NewUserAsync();
        await using var other = await PlainClient.ConnectAsync(server.HubUrl, user, token, "multi_subtask", Ct);

        // Both raws committed in one statement, so that one delivery read serves both interactions.
        await using (var connection = await server.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("""
                WITH s AS (UPDATE interactions SET last_seq = 1 WHERE interaction_id IN (@deepId, @otherId) AND last_seq = 0 RETURNING interaction_id)
                INSERT INTO raw (interaction_id, seq, node_id, status, data)
                SELECT interaction_id, 1, md5(random()::text), 'inner',
                       CASE WHEN interaction_id = @deepId THEN (repeat('{"a":', @depth) || '1' || repeat('}', @depth))::jsonb ELSE '{"ok":true}'::jsonb END
                FROM s
                """, new { deepId = deep.InteractionId, otherId = other.InteractionId, depth });
        }

        await Eventually.UntilAsync(() => Task.FromResult(other.LastSeq), seq => seq == 1, TestEnvironment.Timeout, "the other interaction's raw");
        await Eventually.UntilAsync(() => Task.FromResult(deep.LastSeq), seq => seq == 1, TestEnvironment.Timeout, "the deep raw, or its stand-in");
        Assert.Equal("inner", deep.Raws[0].Status);
    }
}
