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

public sealed class ResyncTests(NoRunHubServer server) : IClassFixture<NoRunHubServer>
{
    private static CancellationToken Ct => new CancellationTokenSource(TestEnvironment.Timeout).Token;

    // A raw whose push was lost on the way (e.g. between hub instances while Redis restarted): committed, marked
    // sent, never received. Only a Resume can bring it.
    private const string WriteLostSql = """
        WITH s AS (UPDATE interactions SET last_seq = @seq WHERE interaction_id = @id AND last_seq = @seq - 1 RETURNING interaction_id)
        INSERT INTO raw (interaction_id, seq, node_id, status, data, is_send)
        SELECT interaction_id, @seq, md5(random()::text), @status, '[]'::jsonb, @sent FROM s
        """;

    private async Task WriteAsync(string id, long seq, string status, bool lost)
    {
        await using var connection = await server.Database.DataSource.OpenConnectionAsync(Ct);
        Assert.Equal(1, await connection.ExecuteAsync(WriteLostSql, new { id, seq, status, sent = lost }));
    }

    [Fact]
    public async Task ALostPushIsRecoveredByTheClientOnItsOwn()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(
            server.ClientOptions(user, token, "multi_subtask") with { ResyncInterval = TimeSpan.FromMilliseconds(200) }, Ct);

        await WriteAsync(client.InteractionId, 1, RecorderStatus.Running, lost: true);   // a gap before seq 2
        await WriteAsync(client.InteractionId, 2, RecorderStatus.Inner, lost: false);
        await WriteAsync(client.InteractionId, 3, RecorderStatus.Finished, lost: true);  // the end, lost: silence

        var messages = await Replays.ReadAllAsync(client, Ct);
        Assert.Equal([1L, 2, 3], messages.Select(m => m.Seq));
        Assert.Equal([RecorderStatus.Running, RecorderStatus.Inner, RecorderStatus.Finished], messages.Select(m => m.Status));
    }
}
