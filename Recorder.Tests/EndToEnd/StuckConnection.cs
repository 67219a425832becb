using System.Net.WebSockets;
using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Hub.Delivery;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// A connection that completed SignalR's handshake and then never reads, with far more raws queued for it than the
/// socket buffers hold (1,500 of 32 KiB): the slow consumer of <see cref="SlowConsumerTests"/> and <see cref="StuckPongTests"/>.
/// </summary>
public static class StuckConnection
{
    public const int Raws = 1500;

    private const string WriteSql = """
        WITH s AS (UPDATE interactions SET last_seq = @last WHERE interaction_id = @id AND last_seq = @first - 1 RETURNING interaction_id)
        INSERT INTO raw (interaction_id, seq, node_id, status, data)
        SELECT interaction_id, g, md5(random()::text), 'inner', jsonb_build_object('blob', repeat('x', @size))
        FROM s, generate_series(@first::bigint, @last::bigint) g
        """;

    /// <summary>Commits raws <paramref name="first"/>..<paramref name="last"/> of the interaction, each <paramref name="size"/> bytes of data.</summary>
    public static async Task WriteAsync(HubServer server, string id, long first, long last, int size, CancellationToken cancellationToken)
    {
        await using var connection = await server.Database.DataSource.OpenConnectionAsync(cancellationToken);
        Assert.Equal((int)(last - first + 1), await connection.ExecuteAsync(
            new CommandDefinition(WriteSql, new { id, first, last, size }, cancellationToken: cancellationToken)));
    }

    /// <summary>Opens the connection, writes its raws and waits until its writes have stopped with envelopes waiting.</summary>
    public static async Task<(ClientWebSocket Socket, string InteractionId)> OpenAsync(HubServer server, CancellationToken cancellationToken)
    {
        var (user, token) = await server.NewUserAsync();
        var id = Guid.NewGuid().ToString("N");
        var socket = new ClientWebSocket();
        try
        {
            await socket.ConnectAsync(new UriBuilder(server.HubUrl)
            {
                Scheme = "ws",
                Query = TestQuery.Connect(user, token, "multi_subtask", id),
            }.Uri, cancellationToken);
            await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, cancellationToken);
            await Eventually.UntilAsync(
                () => server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE interaction_id = @id", new { id }),
                n => n == 1, TestEnvironment.Timeout, "the stuck connection's interaction");
            await WriteAsync(server, id, 1, Raws, 32 * 1024, cancellationToken);

            // Stuck: its writes stopped and envelopes wait. With its socket buffers full the outbox (64) holds more than
            // half (it is refilled whenever it drains to half, so "full" is not a state it has to stay in).
            var subscriptions = server.Services.GetRequiredService<Subscriptions>();
            await Eventually.UntilAsync(() => Task.FromResult(subscriptions.Queued), n => n > 32, TestEnvironment.Timeout, "the stuck connection's outbox to fill");
            return (socket, id);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
