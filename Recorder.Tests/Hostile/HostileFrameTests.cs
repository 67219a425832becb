using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Hostile;

/// <summary>
/// Raw frames over the hub's WebSocket (bad handshakes, malformed JSON, a missing record separator, frames past the
/// 32 KiB limit, binary frames) and over XAgent's <c>/ws/recorder/{client_id}</c>: the server answers with an error
/// or closes the connection, changes nothing and still serves.
/// </summary>
public sealed class HostileFrameTests(HubServer server) : IClassFixture<HubServer>
{
    private const string NotAnObject = "frames must be JSON text objects such as {\"type\":\"recorder\"}";

    /// <summary>Handshakes the hub must refuse (an error answer, or the socket closed).</summary>
    public static TheoryData<string> BadHandshakes() =>
    [
        "{\"protocol\":\"xml\",\"version\":1}\u001e", "{\"protocol\":\"json\",\"version\":99}\u001e",
        "{\"protocol\":\"\",\"version\":1}\u001e", "{\"version\":1}\u001e", "{\"protocol\":\"json\"}\u001e", "not json\u001e", "[]\u001e", "{}\u001e",
        "\u001e", "{\"protocol\":5,\"version\":1}\u001e", "{\"protocol\":\"json\",\"version\":\"one\"}\u001e", "{\"protocol\":null,\"version\":1}\u001e",
        "{\"protocol\":\"json\",\"version\":1e99}\u001e",
        "{\"protocol\":\"" + new string('p', 40000) + "\",\"version\":1}\u001e",
        new string('[', 200) + new string(']', 200) + "\u001e",
    ];

    [Theory]
    [MemberData(nameof(BadHandshakes))]
    public async Task ABadHandshakeIsRefusedAndNothingIsCreated(string handshake)
    {
        var (userId, token) = await server.NewUserAsync();
        var before = await HostileChecks.RowsAsync(server, userId);
        await using (var socket = await RawSignalRSocket.OpenAsync(server.HubUrl,
                         $"user_id={userId}&token={token}&recorder_dir=multi_subtask&client_id={Guid.NewGuid():N}", handshake))
        {
            var answer = await socket.ReadFrameAsync();
            if (answer is not null)
            {
                using var document = JsonDocument.Parse(answer);
                Assert.True(document.RootElement.TryGetProperty("error", out var error) && error.GetString()!.Length > 0, $"handshake answer: {answer}");
            }
        }

        Assert.Equal(before, await HostileChecks.RowsAsync(server, userId));
        await HostileChecks.AssertUpAsync(server);
    }

    /// <summary>(frame, whether the hub must close the connection: documented for non-JSON and for frames over 32 KiB).</summary>
    public static TheoryData<string, bool> BadFrames() => new()
    {
        { "not json\u001e", true }, { "{\"type\":1,\u001e", true }, { "}\u001e", true }, { "\"str\"\u001e", true },
        { "{\"type\":1,\"target\":\"Ping\",\"arguments\":[\"" + new string('x', 33 * 1024) + "\"]}\u001e", true },
        { "{\"type\":1,\"target\":\"Resume\",\"arguments\":[\"" + new string('x', 300 * 1024) + "\",0]}\u001e", true },
        { new string(' ', 40 * 1024) + "\u001e", true },
        { "null\u001e", false }, { "{}\u001e", false },
        { "{\"type\":1,\"target\":\"Ping\"}\u001e", false },
        { "{\"type\":1,\"target\":null,\"arguments\":[]}\u001e", false }, { "{\"type\":4,\"invocationId\":\"x\",\"target\":\"Resume\",\"arguments\":[]}\u001e", false },
        { "{\"type\":5,\"invocationId\":\"nosuch\"}\u001e", false },
        { "{\"type\":7,\"error\":\"bye\"}\u001e", false }, { new string('[', 100) + new string(']', 100) + "\u001e", false },
        { "\u001e\u001e\u001e", false }, { "{\"type\":1,\"target\":\"Ping\",\"arguments\":[],\"type\":7}\u001e", false },
        { "{\"type\":1,\"target\":\"StartRecorder\",\"arguments\":[],\"streamIds\":[\"a\"]}\u001e", false },
        { "<binary>not json at all", false }, { "<binary>{\"type\":1,\"target\":\"Ping\",\"arguments\":[]}\u001e", false },
        { "<bad-utf8>", false },

        // JSON that is no SignalR message, unknown types, completions, stream items and a missing separator: RefusedFrameTests.
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task AMalformedFrameFailsTheConnectionOrIsIgnoredAndNothingIsWritten(string frame, bool mustClose)
    {
        var (userId, token) = await server.NewUserAsync();
        var interactionId = Guid.NewGuid().ToString("N");
        var (socket, first) = await RawSignalRSocket.ConnectAsync(server.HubUrl,
            $"user_id={userId}&token={token}&recorder_dir=multi_subtask&client_id={interactionId}");
        await using (socket)
        {
            Assert.True(first.GetProperty("success").GetBoolean(), $"refused: {first}");
            if (frame.StartsWith("<binary>", StringComparison.Ordinal))
            {
                await socket.SendBytesAsync(Encoding.UTF8.GetBytes(frame["<binary>".Length..]), WebSocketMessageType.Binary);
            }
            else if (frame == "<bad-utf8>")
            {
                await socket.SendBytesAsync([0xFF, 0xFE, 0xC0, 0xAF, 0x1E], WebSocketMessageType.Text);
            }
            else
            {
                await socket.SendAsync(frame);
            }

            if (mustClose)
            {
                var error = await socket.ClosedAsync();
                Assert.True(error is null || error.Length > 0, "closed without an error");
            }
            else
            {
                // Either a clear failure of the connection, or the frame was ignored and the connection still serves.
                var pong = await socket.PingPongsAsync();
                Assert.True(pong || socket.CloseStatus is not null || await socket.ClosedAsync() is null or { Length: > 0 });
            }
        }

        // Nothing was started or written for the interaction.
        Assert.Equal("waiting", await server.QueryScalarAsync<string>("SELECT status FROM interactions WHERE interaction_id = @interactionId", new { interactionId }));
        Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM raw WHERE interaction_id = @interactionId", new { interactionId }));
        await HostileChecks.AssertUpAsync(server);
    }

    /// <summary>(frame sent to an attached <c>/ws/recorder</c> socket, close status, reason): docs/protocol.md's texts.</summary>
    public static TheoryData<string, int, string> BadXAgentFrames() => new()
    {
        { "not json", 1003, NotAnObject }, { "[]", 1003, NotAnObject }, { "\"recorder\"", 1003, NotAnObject }, { "42", 1003, NotAnObject },
        { "null", 1003, NotAnObject }, { "{", 1003, NotAnObject }, { "{\"type\":\"recorder\"", 1003, NotAnObject },
        { "<binary>{\"type\":\"recorder\"}", 1003, NotAnObject }, { "<binary>", 1003, NotAnObject },
        { "{\"type\":\"recorder\",\"pad\":\"" + new string('x', 70 * 1024) + "\"}", 1009, "frames are limited to 65536 bytes" },
        { new string(' ', 65537), 1009, "frames are limited to 65536 bytes" },
    };

    [Theory]
    [MemberData(nameof(BadXAgentFrames))]
    public async Task AMalformedXAgentFrameClosesTheSocketWithItsDocumentedCodeAndStartsNothing(string frame, int status, string reason)
    {
        var (userId, token) = await server.NewUserAsync();
        var clientId = Guid.NewGuid().ToString();
        using var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
        await socket.ConnectAsync(new Uri(new UriBuilder(server.BaseUrl) { Scheme = "ws" }.Uri,
            $"/ws/recorder/{clientId}?user_id={userId}&token={token}&recorder_dir=multi_subtask"), timeout.Token);
        var buffer = new byte[256 * 1024];
        var connect = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Contains("\"connect\"", Encoding.UTF8.GetString(buffer, 0, connect.Count), StringComparison.Ordinal);

        if (frame.StartsWith("<binary>", StringComparison.Ordinal))
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(frame["<binary>".Length..]), WebSocketMessageType.Binary, true, timeout.Token);
        }
        else
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, true, timeout.Token);
        }

        while ((await socket.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close)
        {
        }

        Assert.Equal((WebSocketCloseStatus)status, socket.CloseStatus);
        Assert.Equal(reason, socket.CloseStatusDescription);
        Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM raw WHERE interaction_id = @clientId", new { clientId }));
        Assert.NotEqual("running", await server.QueryScalarAsync<string>("SELECT status FROM interactions WHERE interaction_id = @clientId", new { clientId }));
        await HostileChecks.AssertUpAsync(server);
    }

    [Fact]
    public Task AfterTheHostileFramesAHealthyReplayStillWorks() => HostileChecks.AssertHealthyReplayAsync(server);
}
