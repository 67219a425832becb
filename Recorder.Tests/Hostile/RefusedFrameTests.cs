using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using MessagePack;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Hostile;

/// <summary>
/// Frames that SignalR's own protocols ignore or stall on (an unknown message type, a completion that answers nothing,
/// two JSON messages in one frame) close the connection at once with the hub's text in the Close message, over JSON
/// and MessagePack; another connection of the same interaction still gets every raw, and valid frames still work.
/// </summary>
public sealed class RefusedFrameTests(HubServer server) : IClassFixture<HubServer>
{
    private const string Closed = "Connection closed with an error. HubException: ";
    private const string UnknownType = "the hub does not know message type {0}; it takes invocations (1, 4), cancels (5), pings (6) and close (7).";
    private const string Completion = "a completion from the client answers nothing: the hub asks clients for no results.";
    private const string StreamItem = "a stream item from the client goes nowhere: no hub method takes a stream.";
    private const string TwoValues = "a message holds more after its JSON object: end each message with the record separator 0x1E.";

    /// <summary>Well under SignalR's 30 s client timeout, after which a stalled connection would close anyway.</summary>
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(5);

    /// <summary>(JSON frame, the error of the Close message after "Connection closed with an error. HubException: ").</summary>
    public static TheoryData<string, string> JsonFrames() => new()
    {
        { "{\"type\":99}\u001e", string.Format(null, UnknownType, "99") },
        { "{\"type\":0}\u001e", string.Format(null, UnknownType, "0") },
        { "{\"type\":-1,\"target\":\"Ping\",\"arguments\":[]}\u001e", string.Format(null, UnknownType, "-1") },
        { "{\"type\":2147483647}\u001e", string.Format(null, UnknownType, "2147483647") },
        { "{\"type\":3,\"invocationId\":\"x\"}\u001e", Completion },
        { "{\"type\":3,\"invocationId\":\"x\",\"result\":1}\u001e", Completion },
        { "{\"type\":3,\"invocationId\":\"x\",\"error\":\"no\"}\u001e", Completion },
        { "{\"type\":2,\"invocationId\":\"x\",\"item\":1}\u001e", StreamItem },
        { "{\"type\":1.5}\u001e", string.Format(null, UnknownType, "1.5") },
        { "{\"type\":8,\"type\":99}\u001e", string.Format(null, UnknownType, "99") },
        { "{\"type\":\"6\",\"typ\\u0065\":99}\u001e", string.Format(null, UnknownType, "99") },
        { "{\"type\":6}{\"type\":6}\u001e", TwoValues },
        { "{\"type\":1,\"target\":\"Ping\",\"arguments\":[]}{\"type\":1,\"target\":\"StartRecorder\",\"arguments\":[]}\u001e", TwoValues },
        { "{\"type\":6} 1\u001e", TwoValues },
        { "{\"type\":6}x\u001e", TwoValues },
        { "{\"type\":6}]\u001e", TwoValues },
    };

    [Theory]
    [MemberData(nameof(JsonFrames))]
    public async Task AJsonFrameSignalRWouldIgnoreClosesTheConnectionAtOnceWithTheHubsTextAndTheInteractionCarriesOn(string frame, string error)
    {
        var (userId, token) = await server.NewUserAsync();
        var interactionId = Guid.NewGuid().ToString("N");
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
        await using var other = await PlainClient.ConnectAsync(server.HubUrl, userId, token, "multi_subtask", timeout.Token, interactionId);
        var (socket, first) = await RawSignalRSocket.ConnectAsync(server.HubUrl, TestQuery.Connect(userId, token, "multi_subtask", interactionId));
        await using (socket)
        {
            Assert.True(first.GetProperty("success").GetBoolean(), $"refused: {first}");
            await socket.SendAsync(frame);
            Assert.Equal(Closed + error, await socket.ClosedAsync().WaitAsync(Promptly));
            Assert.Null(await socket.ReadFrameAsync());
        }

        // Nothing was started or written, and the other connection of the same interaction gets every raw.
        Assert.Equal("waiting", await server.QueryScalarAsync<string>("SELECT status FROM interactions WHERE interaction_id = @interactionId", new { interactionId }));
        Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM raw WHERE interaction_id = @interactionId", new { interactionId }));
        await other.StartRecorderAsync(timeout.Token);
        await other.Ended.WaitAsync(timeout.Token);
        AssertWholeReplay(other.Raws);
        await HostileChecks.AssertUpAsync(server);
    }

    /// <summary>JSON that is no SignalR message at all: SignalR's own error, which the wrappers leave alone, closes the connection at once.</summary>
    public static TheoryData<string> NotSignalRMessages() =>
    [
        "{\"foo\":1}\u001e", "[1,2]\u001e", "123\u001e", "{\"type\":\"1\"}\u001e", "{\"type\":1}\u001e", "{\"type\":null}\u001e",
    ];

    [Theory]
    [MemberData(nameof(NotSignalRMessages))]
    public async Task JsonThatIsNoSignalRMessageClosesTheConnectionAtOnceWithSignalRsError(string frame)
    {
        var (userId, token) = await server.NewUserAsync();
        var (socket, first) = await RawSignalRSocket.ConnectAsync(server.HubUrl, TestQuery.Connect(userId, token, "multi_subtask", Guid.NewGuid().ToString("N")));
        await using (socket)
        {
            Assert.True(first.GetProperty("success").GetBoolean(), $"refused: {first}");
            await socket.SendAsync(frame);
            var error = await socket.ClosedAsync().WaitAsync(Promptly);
            Assert.StartsWith("Connection closed with an error.", error);
            Assert.DoesNotContain("HubException", error);
        }

        await HostileChecks.AssertUpAsync(server);
    }

    /// <summary>Valid frames, also with whitespace or an empty record around them: they pass the wrapper unchanged.</summary>
    public static TheoryData<string> ValidFrames() =>
    [
        "{\"type\":6}\u001e", " {\"type\":6} \r\n\u001e", "{\"type\":6}\u001e{\"type\":6}\u001e",
        "{\"type\":1,\"target\":\"Ping\",\"arguments\":[],\"headers\":{\"a\":\"b\"}}\u001e",
        "{\"arguments\":[],\"target\":\"Ping\",\"type\":1}\u001e",
        "{\"type\":5,\"invocationId\":\"nosuch\"}\u001e",
    ];

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public async Task ValidFramesStillWorkAndTheConnectionGetsItsReplay(string frame)
    {
        var (userId, token) = await server.NewUserAsync();
        var (socket, first) = await RawSignalRSocket.ConnectAsync(server.HubUrl, TestQuery.Connect(userId, token, "multi_subtask", Guid.NewGuid().ToString("N")));
        await using (socket)
        {
            Assert.True(first.GetProperty("success").GetBoolean(), $"refused: {first}");
            await socket.SendAsync(frame);
            Assert.True(await socket.PingPongsAsync(), "the connection no longer answers Ping");
            var completion = await socket.InvokeAsync("StartRecorder", "[]");
            Assert.NotNull(completion);
            Assert.False(completion.Value.TryGetProperty("error", out var error), $"StartRecorder failed: {error}");
            var raws = new List<(long, string)>();
            while (raws.Count == 0 || raws[^1].Item2 is not ("finished" or "failed"))
            {
                var message = await socket.NextMessageAsync();
                raws.Add((message.GetProperty("seq").GetInt64(), message.GetProperty("status").GetString()!));
            }

            AssertWholeReplay(raws);
        }
    }

    /// <summary>(MessagePack message as its array's items, written after the length prefix; the error after <see cref="Closed"/>).</summary>
    public static TheoryData<string, string> MessagePackFrames() => new()
    {
        { "99", string.Format(null, UnknownType, "99") },
        { "0", string.Format(null, UnknownType, "0") },
        { "3,{},x,2", Completion },
        { "3,{},x,3,1", Completion },
        { "3,{},x,1,no", Completion },
        { "2,{},x,1", StreamItem },
    };

    [Theory]
    [MemberData(nameof(MessagePackFrames))]
    public async Task AMessagePackFrameSignalRWouldIgnoreClosesTheConnectionAtOnceWithTheHubsText(string items, string error)
    {
        var (userId, token) = await server.NewUserAsync();
        var interactionId = Guid.NewGuid().ToString("N");
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
        await using var other = await PlainClient.ConnectAsync(server.HubUrl, userId, token, "multi_subtask", timeout.Token, interactionId);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(server.HubUrl) { Scheme = "ws", Query = TestQuery.Connect(userId, token, "multi_subtask", interactionId) }.Uri, timeout.Token);
        await socket.SendAsync("{\"protocol\":\"messagepack\",\"version\":1}\u001e"u8.ToArray(), WebSocketMessageType.Text, true, timeout.Token);
        var frames = new MessagePackSocket(socket);
        Assert.Equal(1, (await frames.NextAsync(timeout.Token)).Type); // the connect envelope, a Message invocation
        await socket.SendAsync(Frame(items), WebSocketMessageType.Binary, true, timeout.Token);

        using var prompt = new CancellationTokenSource(Promptly);
        var (type, closeError) = await frames.NextAsync(prompt.Token);
        while (type != 7)
        {
            (type, closeError) = await frames.NextAsync(prompt.Token); // a ping or a Message: not what this waits for
        }

        Assert.Equal(Closed + error, closeError);

        await other.StartRecorderAsync(timeout.Token);
        await other.Ended.WaitAsync(timeout.Token);
        AssertWholeReplay(other.Raws);
        await HostileChecks.AssertUpAsync(server);
    }

    [Fact]
    public Task AfterTheRefusedFramesAHealthyReplayStillWorks() => HostileChecks.AssertHealthyReplayAsync(server);

    private static void AssertWholeReplay(IReadOnlyList<(long Seq, string Status)> raws)
    {
        Assert.Equal(Enumerable.Range(1, raws.Count).Select(i => (long)i), raws.Select(r => r.Seq));
        Assert.Equal("running", raws[0].Status);
        Assert.Equal("finished", raws[^1].Status);
    }

    /// <summary>A MessagePack hub message, length-prefixed: an array of the comma-separated items (numbers, {} for no headers, strings).</summary>
    private static byte[] Frame(string items)
    {
        var body = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(body);
        var parts = items.Split(',');
        writer.WriteArrayHeader(parts.Length);
        foreach (var part in parts)
        {
            if (part == "{}")
            {
                writer.WriteMapHeader(0);
            }
            else if (int.TryParse(part, out var number))
            {
                writer.Write(number);
            }
            else
            {
                writer.Write(part);
            }
        }

        writer.Flush();
        var frame = new List<byte>();
        for (var length = (uint)body.WrittenCount; ; length >>= 7)
        {
            frame.Add((byte)(length < 0x80 ? length : (length & 0x7F) | 0x80));
            if (length < 0x80)
            {
                break;
            }
        }

        frame.AddRange(body.WrittenSpan.ToArray());
        return [.. frame];
    }

    /// <summary>The server's side of a MessagePack connection: the handshake answer skipped, then each message's type (and a Close's error).</summary>
    private sealed class MessagePackSocket(ClientWebSocket socket)
    {
        private readonly List<byte> _bytes = [];
        private bool _handshaken;

        public async Task<(int Type, string? Error)> NextAsync(CancellationToken cancellationToken)
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                if (!_handshaken && _bytes.IndexOf(0x1E) is var end and >= 0)
                {
                    Assert.Equal("{}", Encoding.UTF8.GetString([.. _bytes[..end]]));
                    _bytes.RemoveRange(0, end + 1);
                    _handshaken = true;
                }

                if (_handshaken && TryTake(out var message))
                {
                    return message;
                }

                var result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException("the server closed the socket without a Close message");
                }

                _bytes.AddRange(buffer.AsSpan(0, result.Count).ToArray());
            }
        }

        private bool TryTake(out (int Type, string? Error) message)
        {
            message = default;
            int length = 0, shift = 0, at = 0;
            while (true)
            {
                if (at == _bytes.Count)
                {
                    return false;
                }

                var b = _bytes[at++];
                length |= (b & 0x7F) << shift;
                shift += 7;
                if (b < 0x80)
                {
                    break;
                }
            }

            if (_bytes.Count < at + length)
            {
                return false;
            }

            var reader = new MessagePackReader(_bytes.GetRange(at, length).ToArray());
            _bytes.RemoveRange(0, at + length);
            reader.ReadArrayHeader();
            var type = reader.ReadInt32();
            message = (type, type == 7 ? reader.ReadString() : null);
            return true;
        }
    }
}
