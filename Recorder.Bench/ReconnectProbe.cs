using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections.Client;

namespace Recorder.Bench;

/// <summary>
/// What one client went through in a reconnect storm, as <see cref="Stopwatch"/> timestamps (0 = did not happen).
/// The timestamps are the machine's monotonic clock (CLOCK_MONOTONIC on Linux, QPC on Windows), so the bench
/// process can set them against its own.
/// </summary>
/// <param name="Lost">The connection from before the storm ended (close frame or error).</param>
/// <param name="Attempts">Each negotiate request since the storm began: one per (re)connect attempt.</param>
/// <param name="SocketOpened">The WebSocket that resumed was open.</param>
/// <param name="ConnectEnvelope">The first <c>Message</c> on it (the hub's connect envelope) arrived.</param>
/// <param name="ResumeSent">The client sent its <c>Resume</c> invocation on it.</param>
/// <param name="Resumed">The completion of that <c>Resume</c> arrived (without an error).</param>
/// <param name="ResumeErrors">Completions with an error on sockets opened since the storm began.</param>
/// <param name="WebSocketFailures">WebSocket connects that failed (after their negotiate succeeded) since the storm began.</param>
internal sealed record ClientReconnect(long Lost, IReadOnlyList<NegotiateAttempt> Attempts, long SocketOpened, long ConnectEnvelope, long ResumeSent, long Resumed, int ResumeErrors, int WebSocketFailures);

/// <summary>One negotiate request: when it started and ended, and how (<c>200</c>, <c>503</c>, or the error, e.g. <c>ConnectionRefused</c>).</summary>
internal sealed record NegotiateAttempt(long Start, long End, string Outcome);

/// <summary>
/// Watches one <see cref="Recorder.Client.RecorderClient"/> from outside, through the two hooks
/// <see cref="HttpConnectionOptions"/> offers (<c>HttpMessageHandlerFactory</c> sees each negotiate request, one
/// per connect attempt; <c>WebSocketFactory</c> opens the WebSocket itself and hands SignalR a wrapper that reads
/// the frames going by). The JSON hub protocol's messages end with 0x1E and start with their <c>type</c>, so the
/// wrapper sees the connect envelope (the first <c>Message</c> invocation), the client's <c>Resume</c> invocation
/// and its completion (type 3, the only completion the client waits for after a reconnect). Nothing in the client
/// changes: the WebSocket is opened the way SignalR's default factory does it (its headers, its configuration).
/// </summary>
internal sealed class ReconnectProbe
{
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<NegotiateAttempt> _attempts = [];
    private bool _armed;
    private int _sockets;
    private int _socketsBeforeStorm;
    private int _watchedSocket;
    private long _lost;
    private long _socketOpened;
    private long _connectEnvelope;
    private long _resumeSent;
    private long _resumedAt;
    private int _resumeErrors;
    private int _webSocketFailures;

    /// <summary>Completes when a connection opened after <see cref="Arm"/> has completed its <c>Resume</c>.</summary>
    public Task Resumed => _resumed.Task;

    /// <summary>Installs the probe; for <see cref="Recorder.Client.RecorderClientOptions.ConfigureHttpConnection"/>.</summary>
    public void Configure(HttpConnectionOptions http)
    {
        http.HttpMessageHandlerFactory = inner => new NegotiateObserver(inner, this);
        http.WebSocketFactory = ConnectAsync;
    }

    /// <summary>From now on, the next connection to resume is what is watched; the current one is expected to end.</summary>
    public void Arm()
    {
        lock (_gate)
        {
            _armed = true;
            _socketsBeforeStorm = _sockets;
        }
    }

    public ClientReconnect Result()
    {
        lock (_gate)
        {
            return new ClientReconnect(_lost, [.. _attempts], _socketOpened, _connectEnvelope, _resumeSent, _resumedAt, _resumeErrors, _webSocketFailures);
        }
    }

    private async ValueTask<WebSocket> ConnectAsync(WebSocketConnectionContext context, CancellationToken cancellationToken)
    {
        // What SignalR's DefaultWebSocketFactory does for a plain HTTP/1.1 connection: the options' headers, then
        // the options' own WebSocket configuration.
        var socket = new ClientWebSocket();
        foreach (var header in context.Options.Headers)
        {
            socket.Options.SetRequestHeader(header.Key, header.Value);
        }

        context.Options.WebSocketConfiguration?.Invoke(socket.Options);
        try
        {
            await socket.ConnectAsync(context.Uri, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            lock (_gate)
            {
                _webSocketFailures += _armed && _resumedAt == 0 ? 1 : 0;
            }

            throw;
        }

        return new ObservedWebSocket(socket, this, OnSocketOpened());
    }

    private int OnSocketOpened()
    {
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            var socket = ++_sockets;
            if (_armed && _resumedAt == 0)
            {
                _watchedSocket = socket;
                _socketOpened = now;
                _connectEnvelope = 0;
                _resumeSent = 0;
            }

            return socket;
        }
    }

    private void OnSocketEnded(int socket)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            if (_armed && socket <= _socketsBeforeStorm && _lost == 0)
            {
                _lost = now;
            }
        }
    }

    private void OnNegotiate(long started, string outcome)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            if (_armed && _resumedAt == 0)
            {
                _attempts.Add(new NegotiateAttempt(started, now, outcome));
            }
        }
    }

    private void OnMessage(int socket, bool incoming, HubFrame frame)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            if (!_armed || _resumedAt != 0 || socket != _watchedSocket)
            {
                return;
            }

            if (incoming && frame.Type == HubFrame.Invocation && frame.Target == "Message" && _connectEnvelope == 0)
            {
                _connectEnvelope = now;
            }
            else if (!incoming && frame.Type == HubFrame.Invocation && frame.Target == "Resume" && _resumeSent == 0)
            {
                _resumeSent = now;
            }
            else if (incoming && frame.Type == HubFrame.Completion && _resumeSent != 0)
            {
                if (frame.HasError)
                {
                    _resumeErrors++;
                    return;
                }

                _resumedAt = now;
                _resumed.TrySetResult();
            }
        }
    }

    /// <summary>Notes each negotiate request (the first request of every connect attempt): start, end, outcome.</summary>
    private sealed class NegotiateObserver(HttpMessageHandler inner, ReconnectProbe probe) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri?.AbsolutePath.EndsWith("/negotiate", StringComparison.Ordinal) != true)
            {
                return await base.SendAsync(request, cancellationToken);
            }

            var started = Stopwatch.GetTimestamp();
            try
            {
                var response = await base.SendAsync(request, cancellationToken);
                probe.OnNegotiate(started, ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
                return response;
            }
            catch (Exception exception)
            {
                probe.OnNegotiate(started, Describe(exception));
                throw;
            }
        }

        /// <summary>The innermost socket error's name when there is one (<c>ConnectionRefused</c>), else the exception type.</summary>
        private static string Describe(Exception exception)
        {
            for (var e = exception; e is not null; e = e.InnerException)
            {
                if (e is SocketException socket)
                {
                    return socket.SocketErrorCode.ToString();
                }

                if (e is HttpIOException io)
                {
                    return io.HttpRequestError.ToString();
                }
            }

            return exception is HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } http ? http.HttpRequestError.ToString() : exception.GetType().Name;
        }
    }

    /// <summary>A WebSocket that passes everything through and shows the probe each hub message going by.</summary>
    private sealed class ObservedWebSocket(ClientWebSocket inner, ReconnectProbe probe, int socket) : WebSocket
    {
        private readonly FrameSplitter _received = new();
        private readonly FrameSplitter _sent = new();
        private int _ended;

        public override WebSocketCloseStatus? CloseStatus => inner.CloseStatus;

        public override string? CloseStatusDescription => inner.CloseStatusDescription;

        public override WebSocketState State => inner.State;

        public override string? SubProtocol => inner.SubProtocol;

        public override void Abort()
        {
            Ended();
            inner.Abort();
        }

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
            inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
            inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

        public override void Dispose()
        {
            Ended();
            inner.Dispose();
        }

        public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
        {
            var result = await ObserveAsync(inner.ReceiveAsync(buffer, cancellationToken));
            Received(buffer.AsSpan(0, result.Count), result.MessageType);
            return result;
        }

        public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            ValueWebSocketReceiveResult result;
            try
            {
                result = await inner.ReceiveAsync(buffer, cancellationToken);
            }
            catch
            {
                Ended();
                throw;
            }

            Received(buffer.Span[..result.Count], result.MessageType);
            return result;
        }

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            Sent(buffer);
            return inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);
        }

        public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            Sent(buffer.Span);
            return inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);
        }

        public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken)
        {
            Sent(buffer.Span);
            return inner.SendAsync(buffer, messageType, messageFlags, cancellationToken);
        }

        private async Task<WebSocketReceiveResult> ObserveAsync(Task<WebSocketReceiveResult> receive)
        {
            try
            {
                return await receive;
            }
            catch
            {
                Ended();
                throw;
            }
        }

        private void Received(ReadOnlySpan<byte> data, WebSocketMessageType type)
        {
            if (type == WebSocketMessageType.Close)
            {
                Ended();
                return;
            }

            _received.Split(data, frame => probe.OnMessage(socket, incoming: true, frame));
        }

        private void Sent(ReadOnlySpan<byte> data) => _sent.Split(data, frame => probe.OnMessage(socket, incoming: false, frame));

        private void Ended()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                probe.OnSocketEnded(socket);
            }
        }
    }

    /// <summary>Cuts one direction's bytes into hub messages (each ends with 0x1E) and reads each one's head.</summary>
    private sealed class FrameSplitter
    {
        private const byte RecordSeparator = 0x1E;
        private readonly ArrayBufferWriter<byte> _partial = new();

        public void Split(ReadOnlySpan<byte> data, Action<HubFrame> onFrame)
        {
            while (!data.IsEmpty)
            {
                var end = data.IndexOf(RecordSeparator);
                if (end < 0)
                {
                    _partial.Write(data);
                    return;
                }

                if (_partial.WrittenCount == 0)
                {
                    onFrame(HubFrame.Read(data[..end]));
                }
                else
                {
                    _partial.Write(data[..end]);
                    onFrame(HubFrame.Read(_partial.WrittenSpan));
                    _partial.ResetWrittenCount();
                }

                data = data[(end + 1)..];
            }
        }
    }
}

/// <summary>The head of one JSON hub protocol message: its type, its target (invocations) and whether it carries an error.</summary>
internal readonly record struct HubFrame(int Type, string? Target, bool HasError)
{
    public const int Invocation = 1;
    public const int Completion = 3;

    public static HubFrame Read(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            var (type, target, error) = (0, (string?)null, false);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    type = reader.TokenType == JsonTokenType.Number ? reader.GetInt32() : 0;
                }
                else if (reader.ValueTextEquals("target"u8))
                {
                    reader.Read();
                    target = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else
                {
                    error |= reader.ValueTextEquals("error"u8);
                    reader.Read();
                    reader.Skip();
                }
            }

            return new HubFrame(type, target, error);
        }
        catch (JsonException)
        {
            return default;
        }
    }
}
