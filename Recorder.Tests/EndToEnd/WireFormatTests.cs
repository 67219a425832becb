using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Dapper;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// The envelope as it is on the wire, read from a raw WebSocket (no SignalR client in between): snake_case keys in
/// the documented order, nulls present, non-ASCII text as it is (not \u-escaped), as docs/protocol.md shows it.
/// </summary>
public sealed class WireFormatTests(NoRunHubServer server) : TimedTest, IClassFixture<NoRunHubServer>
{
    private static readonly string[] EnvelopeKeys =
        ["status", "success", "message", "data", "current", "node_id", "workspace_file_list", "interaction_id", "seq"];

    private static readonly string[] InteractionKeys =
    [
        "interaction_id", "user_id", "create_time", "update_time", "description", "agent", "mode", "file_list",
        "recorder_root_dir", "status", "message", "current_step", "is_deleted", "call_method", "last_seq",
    ];

    [Fact]
    public async Task TheConnectEnvelopeAndARawAreSnakeCaseWithNullsPresentAndTextAsItIs()
    {
        var (user, token) = await server.NewUserAsync();
        var id = Guid.NewGuid().ToString("N");
        using var socket = await ConnectAsync(TestQuery.Connect(user, token, "multi_subtask", id));

        var connect = await NextMessageAsync(socket);
        Assert.Equal(EnvelopeKeys, connect.EnumerateObject().Select(p => p.Name));
        Assert.Equal("connect", connect.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, connect.GetProperty("current").ValueKind);
        Assert.Equal(JsonValueKind.Null, connect.GetProperty("workspace_file_list").ValueKind);
        Assert.Equal(InteractionKeys, connect.GetProperty("data").EnumerateObject().Select(p => p.Name));
        Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", connect.GetProperty("data").GetProperty("create_time").GetString());

        // A raw whose data holds non-ASCII text and a null.
        await using (var connection = await server.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("""
                WITH s AS (UPDATE interactions SET last_seq = 1 WHERE interaction_id = @id AND last_seq = 0 RETURNING interaction_id)
                INSERT INTO raw (interaction_id, seq, node_id, current, status, data)
                SELECT interaction_id, 1, 'n1', '1.1', 'inner', '{"thoughts": "Prüfung 测试 ✓", "nothing": null}'::jsonb FROM s
                """, new { id });
        }

        var (raw, text) = await NextMessageWithTextAsync(socket);
        Assert.Equal(EnvelopeKeys, raw.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, raw.GetProperty("seq").GetInt64());
        Assert.Equal("n1", raw.GetProperty("node_id").GetString());
        Assert.Equal("1.1", raw.GetProperty("current").GetString());
        Assert.Equal(JsonValueKind.Null, raw.GetProperty("data").GetProperty("nothing").ValueKind);
        Assert.Equal(JsonValueKind.Array, raw.GetProperty("workspace_file_list").ValueKind);
        Assert.Contains("Prüfung 测试 ✓", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARefusalIsAFailedEnvelopeWithEveryKeyAndNulls()
    {
        using var socket = await ConnectAsync(TestQuery.Connect("nobody", "x", "multi_subtask"));

        var refusal = await NextMessageAsync(socket);
        Assert.Equal(EnvelopeKeys, refusal.EnumerateObject().Select(p => p.Name));
        Assert.Equal("failed", refusal.GetProperty("status").GetString());
        Assert.False(refusal.GetProperty("success").GetBoolean());
        Assert.Equal("user is not exist!", refusal.GetProperty("message").GetString());
        Assert.All(["data", "current", "node_id", "workspace_file_list", "interaction_id"],
            key => Assert.Equal(JsonValueKind.Null, refusal.GetProperty(key).ValueKind));
        Assert.Equal(0, refusal.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task AfterTheResumeCompletionFrameComeExactlyTheRawsAfterItsSeqEvenWithABacklogQueued()
    {
        var (user, token) = await server.NewUserAsync();
        var id = Guid.NewGuid().ToString("N");
        using var socket = await ConnectAsync(TestQuery.Connect(user, token, "multi_subtask", id));
        await NextMessageAsync(socket); // connect
        const int Raws = 3000;
        await using (var connection = await server.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("""
                WITH s AS (UPDATE interactions SET last_seq = @Raws WHERE interaction_id = @id AND last_seq = 0 RETURNING interaction_id)
                INSERT INTO raw (interaction_id, seq, node_id, status, data)
                SELECT interaction_id, g, md5(g::text), 'inner', jsonb_build_object('text', repeat('x', 8000)) FROM s, generate_series(1, @Raws) g
                """, new { id, Raws });
        }

        // Read a few, then stop reading for a moment so that the connection's outbox fills behind the socket.
        for (var i = 0; i < 20; i++)
        {
            await NextMessageAsync(socket);
        }

        await Task.Delay(TimeSpan.FromMilliseconds(500), Ct); // lets a backlog build up; not a wait for a condition
        await socket.SendAsync($"{{\"type\":1,\"invocationId\":\"resume-1\",\"target\":\"Resume\",\"arguments\":[\"{id}\",0]}}\u001e", Ct);

        // Whatever was written before the Resume took effect comes before its completion; after it, exactly 1..N once.
        while (!IsCompletion(await socket.ReadAsync(Ct), "resume-1"))
        {
        }

        var after = new List<long>();
        while (after.Count < Raws)
        {
            var frame = await socket.ReadAsync(Ct);
            using var document = JsonDocument.Parse(frame);
            if (document.RootElement.TryGetProperty("target", out var target) && target.GetString() == "Message")
            {
                after.Add(document.RootElement.GetProperty("arguments")[0].GetProperty("seq").GetInt64());
            }
        }

        Assert.Equal(Enumerable.Range(1, Raws).Select(i => (long)i), after);
    }

    private static bool IsCompletion(string frame, string invocationId)
    {
        using var document = JsonDocument.Parse(frame);
        var root = document.RootElement;
        if (root.GetProperty("type").GetInt32() != 3 || root.GetProperty("invocationId").GetString() != invocationId)
        {
            return false;
        }

        Assert.False(root.TryGetProperty("error", out var error), $"Resume failed: {error}");
        return true;
    }

    private async Task<FrameReader> ConnectAsync(string query)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(server.HubUrl) { Scheme = "ws", Query = query }.Uri, Ct);
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, Ct);
        return new FrameReader(socket);
    }

    private async Task<JsonElement> NextMessageAsync(FrameReader socket) => (await NextMessageWithTextAsync(socket)).Envelope;

    /// <summary>The next <c>Message</c> invocation's envelope, and the frame's text as it came.</summary>
    private async Task<(JsonElement Envelope, string Text)> NextMessageWithTextAsync(FrameReader socket)
    {
        while (true)
        {
            var text = await socket.ReadAsync(Ct);
            using var frame = JsonDocument.Parse(text);
            if (frame.RootElement.TryGetProperty("target", out var target) && target.GetString() == "Message")
            {
                return (frame.RootElement.GetProperty("arguments")[0].Clone(), text);
            }
        }
    }

    /// <summary>A WebSocket read as SignalR JSON frames (each ends with 0x1E), the handshake answer skipped.</summary>
    private sealed class FrameReader(ClientWebSocket socket) : IDisposable
    {
        private readonly Queue<string> _frames = new();
        private readonly StringBuilder _partial = new();
        private readonly byte[] _buffer = new byte[64 * 1024];

        public async Task<string> ReadAsync(CancellationToken cancellationToken)
        {
            while (_frames.Count == 0)
            {
                var result = await socket.ReceiveAsync(_buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException("the server closed the socket");
                }

                _partial.Append(Encoding.UTF8.GetString(_buffer, 0, result.Count));
                var parts = _partial.ToString().Split('\u001e');
                foreach (var part in parts[..^1].Where(p => p.Length > 0 && p != "{}"))
                {
                    _frames.Enqueue(part);
                }

                _partial.Clear().Append(parts[^1]);
            }

            return _frames.Dequeue();
        }

        public Task SendAsync(string text, CancellationToken cancellationToken) =>
            socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellationToken);

        public void Dispose() => socket.Dispose();
    }
}
