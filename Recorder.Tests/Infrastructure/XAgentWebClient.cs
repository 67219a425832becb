using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Recorder.Client.Contracts;
using Recorder.Hub.XAgentWeb;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// What XAgent's web UI (XAgentWeb's chat view) does with the recorder socket, over a bare <see cref="ClientWebSocket"/>:
/// opens <c>/ws/recorder/{client_id}?user_id=..&amp;token=..&amp;recorder_dir=..</c>, sends <c>{"type":"recorder"}</c>
/// on open, <c>{"type":"connect"}</c> after the connect frame, a ping for each pong, and <c>{"type":"disconnect"}</c>
/// then a close after <c>finished</c>, <c>failed</c> or a frame with <c>success: false</c>. No reconnect, no ordering
/// code. Every frame is kept as it came (text and parsed).
/// </summary>
public sealed class XAgentWebClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly Lock _gate = new();
    private readonly List<Frame> _frames = [];
    private readonly List<string> _sent = [];
    private readonly TaskCompletionSource<Frame> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _answerPongs;
    private readonly bool _closeAtEnd;
    private Task _receiving = Task.CompletedTask;

    private XAgentWebClient(bool answerPongs, bool closeAtEnd)
    {
        _answerPongs = answerPongs;
        _closeAtEnd = closeAtEnd;
    }

    /// <summary>One frame as received.</summary>
    public sealed record Frame(string Text, JsonElement Json)
    {
        public string? Status => Json.TryGetProperty("status", out var s) ? s.GetString() : null;

        public string? Type => Json.TryGetProperty("type", out var t) ? t.GetString() : null;

        public long Seq => Json.TryGetProperty("seq", out var s) ? s.GetInt64() : 0;

        public IReadOnlyList<string> Keys => [.. Json.EnumerateObject().Select(p => p.Name)];
    }

    public WebSocket Socket => _socket;

    /// <summary>Every frame received, in arrival order.</summary>
    public IReadOnlyList<Frame> Frames
    {
        get
        {
            lock (_gate)
            {
                return [.. _frames];
            }
        }
    }

    /// <summary>The frames with a seq (the raws), in arrival order.</summary>
    public IReadOnlyList<Frame> Raws => [.. Frames.Where(f => f.Seq > 0)];

    /// <summary>The texts this client sent, in order.</summary>
    public IReadOnlyList<string> Sent
    {
        get
        {
            lock (_gate)
            {
                return [.. _sent];
            }
        }
    }

    /// <summary>The first frame: the connect frame or a refusal.</summary>
    public Task<Frame> First => _first.Task;

    /// <summary>Completes when the server's close frame came (or the socket ended).</summary>
    public Task Closed => _closed.Task;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseReason => _socket.CloseStatusDescription;

    /// <summary>
    /// Opens the socket as the UI does. <paramref name="sendRecorder"/> false leaves out the <c>{"type":"recorder"}</c>;
    /// <paramref name="answerPongs"/> false does not ping back; <paramref name="closeAtEnd"/> false does not close after the
    /// last frame (the server must).
    /// </summary>
    public static async Task<XAgentWebClient> ConnectAsync(Uri baseUrl, string clientId, string query, CancellationToken cancellationToken,
        bool sendRecorder = true, bool answerPongs = true, bool closeAtEnd = true)
    {
        var client = new XAgentWebClient(answerPongs, closeAtEnd);
        var url = new UriBuilder(baseUrl) { Scheme = "ws", Path = $"/ws/recorder/{clientId}", Query = query }.Uri;
        await client._socket.ConnectAsync(url, cancellationToken);
        client._receiving = Task.Run(client.ReceiveAsync, CancellationToken.None);
        if (sendRecorder)
        {
            await client.SendAsync("""{"type":"recorder"}""", cancellationToken);
        }

        return client;
    }

    /// <summary>The query the UI builds, with <c>after_seq</c> and <c>speed</c> when given.</summary>
    public static string Query(string userId, string token, string recorderDir, long? afterSeq = null, double? speed = null) =>
        TestQuery.Of(userId, token, (RecorderProtocol.RecorderDirKey, recorderDir), (RecorderSocketSession.AfterSeqKey, afterSeq), (RecorderProtocol.SpeedKey, speed));

    public async Task SendAsync(string text, CancellationToken cancellationToken) =>
        await SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, cancellationToken, text);

    public async Task SendAsync(byte[] bytes, WebSocketMessageType type, CancellationToken cancellationToken, string? record = null)
    {
        await _send.WaitAsync(cancellationToken);
        try
        {
            if (_socket.State != WebSocketState.Open)
            {
                return; // as the UI: sendMsgViaWebsocket sends only on an open socket
            }

            lock (_gate)
            {
                _sent.Add(record ?? $"({type}, {bytes.Length} bytes)");
            }

            await _socket.SendAsync(bytes, type, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>The UI's <c>disConnectWebsocket</c>: a disconnect frame, then the close.</summary>
    public async Task DisconnectAsync(CancellationToken cancellationToken)
    {
        await SendAsync("""{"type":"disconnect"}""", cancellationToken);
        await _send.WaitAsync(cancellationToken);
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
            }
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>Drops the connection without a close (a network failure).</summary>
    public void Drop()
    {
        _socket.Abort();
        _closed.TrySetResult();
    }

    /// <summary>Waits until <paramref name="done"/> holds for the frames received so far (checked after each frame).</summary>
    public async Task UntilAsync(Func<IReadOnlyList<Frame>, bool> done, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TestEnvironment.Timeout;
        while (!done(Frames))
        {
            if (DateTime.UtcNow > deadline || Closed.IsCompleted)
            {
                if (done(Frames))
                {
                    return;
                }

                throw new TimeoutException($"the frames never met the condition; {Frames.Count} frames, closed: {Closed.IsCompleted} ({CloseStatus} {CloseReason})");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[256 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // The browser answers the server's close.
                    await _send.WaitAsync(_stop.Token);
                    try
                    {
                        if (_socket.State == WebSocketState.CloseReceived)
                        {
                            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", _stop.Token);
                        }
                    }
                    finally
                    {
                        _send.Release();
                    }

                    return;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var text = Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
                message.SetLength(0);
                var frame = new Frame(text, JsonDocument.Parse(text).RootElement.Clone());
                lock (_gate)
                {
                    _frames.Add(frame);
                }

                // First completes once the UI has answered the frame (its {"type":"connect"} is sent), so that what a
                // test sends next follows that answer, as in the browser.
                await HandleAsync(frame);
                _first.TrySetResult(frame);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // dropped or disposed
        }
        finally
        {
            if (Frames.Count > 0)
            {
                _first.TrySetResult(Frames[0]); // its answer could not be sent: the socket closed meanwhile
            }

            _first.TrySetException(new InvalidOperationException("the socket closed before any frame"));
            _closed.TrySetResult();
        }
    }

    /// <summary>The chat view's <c>wsMessageHandler</c>, as far as the socket is concerned.</summary>
    private async Task HandleAsync(Frame frame)
    {
        var json = frame.Json;
        if (json.TryGetProperty("success", out var success) && success.ValueKind == JsonValueKind.False)
        {
            await DisconnectAsync(_stop.Token);
            return;
        }

        if (frame.Type == "pong" && _answerPongs)
        {
            await SendAsync("""{"type":"ping"}""", _stop.Token);
        }

        switch (frame.Status)
        {
            case "finished" or "failed" when _closeAtEnd:
                await DisconnectAsync(_stop.Token);
                break;
            case "connect":
                await SendAsync("""{"type":"connect"}""", _stop.Token);
                break;
            default:
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Abort();
        await _receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket.Dispose();
        _stop.Dispose();
        _send.Dispose();
    }
}
