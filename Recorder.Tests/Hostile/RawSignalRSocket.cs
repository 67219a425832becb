using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Hostile;

/// <summary>
/// The hub's WebSocket transport spoken by hand (no SignalR client): whatever a hostile client may send, and every
/// frame the server answers, split at the 0x1E record separator. The handshake answer is returned, not skipped.
/// </summary>
public sealed class RawSignalRSocket : IAsyncDisposable
{
    public const string Handshake = "{\"protocol\":\"json\",\"version\":1}\u001e";

    private readonly ClientWebSocket _socket = new();
    private readonly Queue<string> _frames = new();
    private readonly StringBuilder _partial = new();
    private readonly byte[] _buffer = new byte[64 * 1024];

    private RawSignalRSocket()
    {
    }

    /// <summary>The close status the server sent, once the socket is closed.</summary>
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>Opens a socket on <paramref name="hubUrl"/> with <paramref name="query"/> and sends <paramref name="handshake"/> (none when null).</summary>
    public static async Task<RawSignalRSocket> OpenAsync(Uri hubUrl, string query, string? handshake = Handshake)
    {
        var socket = new RawSignalRSocket();
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
        await socket._socket.ConnectAsync(new UriBuilder(hubUrl) { Scheme = "ws", Query = query }.Uri, timeout.Token);
        if (handshake is not null)
        {
            await socket.SendAsync(handshake);
        }

        return socket;
    }

    /// <summary>Opens, shakes hands and returns the socket with the first <c>Message</c> (the connect envelope or the refusal).</summary>
    public static async Task<(RawSignalRSocket Socket, JsonElement First)> ConnectAsync(Uri hubUrl, string query)
    {
        var socket = await OpenAsync(hubUrl, query);
        var handshake = await socket.ReadFrameAsync();
        if (handshake != "{}")
        {
            throw new InvalidOperationException($"handshake refused: {handshake}");
        }

        return (socket, await socket.NextMessageAsync());
    }

    public async Task SendAsync(string text, WebSocketMessageType type = WebSocketMessageType.Text)
    {
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), type, true, timeout.Token);
    }

    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type)
    {
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
        await _socket.SendAsync(bytes, type, true, timeout.Token);
    }

    /// <summary>The next frame the server sent, or null when the server closed the socket (or reset it).</summary>
    public async Task<string?> ReadFrameAsync()
    {
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
        while (_frames.Count == 0)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await _socket.ReceiveAsync(_buffer, timeout.Token);
            }
            catch (WebSocketException)
            {
                return null;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            _partial.Append(Encoding.UTF8.GetString(_buffer, 0, result.Count));
            var parts = _partial.ToString().Split('\u001e');
            foreach (var part in parts[..^1])
            {
                _frames.Enqueue(part);
            }

            _partial.Clear().Append(parts[^1]);
        }

        return _frames.Dequeue();
    }

    /// <summary>The next <c>Message</c> invocation's envelope (pings and pongs skipped).</summary>
    public async Task<JsonElement> NextMessageAsync()
    {
        while (true)
        {
            var frame = await ReadFrameAsync() ?? throw new InvalidOperationException("the server closed the socket");
            using var document = JsonDocument.Parse(frame);
            if (document.RootElement.TryGetProperty("target", out var target) && target.GetString() == "Message")
            {
                return document.RootElement.GetProperty("arguments")[0].Clone();
            }
        }
    }

    /// <summary>
    /// Sends an invocation frame <c>{"type":1,"invocationId":id,"target":target,"arguments":arguments}</c> (arguments
    /// as raw JSON text) and returns its completion frame; null when the server closed the socket instead.
    /// </summary>
    public async Task<JsonElement?> InvokeAsync(string target, string arguments)
    {
        var id = Guid.NewGuid().ToString("N");
        await SendAsync($"{{\"type\":1,\"invocationId\":\"{id}\",\"target\":{JsonSerializer.Serialize(target)},\"arguments\":{arguments}}}\u001e");
        return await CompletionAsync(id);
    }

    /// <summary>The completion frame of invocation <paramref name="id"/> (other frames skipped); null when the socket closed.</summary>
    public async Task<JsonElement?> CompletionAsync(string id)
    {
        while (true)
        {
            var frame = await ReadFrameAsync();
            if (frame is null)
            {
                return null;
            }

            using var document = JsonDocument.Parse(frame);
            var root = document.RootElement;
            if (root.GetProperty("type").GetInt32() == 3 && root.GetProperty("invocationId").GetString() == id)
            {
                return root.Clone();
            }
        }
    }

    /// <summary>Calls <c>Ping</c> as a non-blocking invocation and waits for the <c>Pong</c>: the connection still serves.</summary>
    public async Task<bool> PingPongsAsync()
    {
        try
        {
            await SendAsync("{\"type\":1,\"target\":\"Ping\",\"arguments\":[]}\u001e");
        }
        catch (Exception exception) when (exception is WebSocketException or IOException)
        {
            return false; // the server has already dropped the connection (a reset, as after a 1007 close)
        }

        while (true)
        {
            var frame = await ReadFrameAsync();
            if (frame is null)
            {
                return false;
            }

            using var document = JsonDocument.Parse(frame);
            if (document.RootElement.TryGetProperty("target", out var target) && target.GetString() == "Pong")
            {
                return true;
            }
        }
    }

    /// <summary>Reads until the server ends the connection: the SignalR close frame's error (or "" without one), or null for a bare socket close.</summary>
    public async Task<string?> ClosedAsync()
    {
        while (true)
        {
            var frame = await ReadFrameAsync();
            if (frame is null)
            {
                return null;
            }

            using var document = JsonDocument.Parse(frame);
            if (document.RootElement.TryGetProperty("type", out var type) && type.GetInt32() == 7)
            {
                return document.RootElement.TryGetProperty("error", out var error) ? error.GetString() : "";
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The server went first: nothing to close.
            }
        }

        _socket.Dispose();
    }
}
