using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Connections.Client;

namespace Recorder.Bench;

/// <summary>Payload bytes a client's WebSockets received (every frame's payload, not the frame headers); thread-safe.</summary>
internal sealed class WireCounter
{
    private long _bytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    public void Add(int bytes) => Interlocked.Add(ref _bytes, bytes);
}

/// <summary>
/// A client <see cref="WebSocket"/> that adds the payload bytes it receives to a <see cref="WireCounter"/> and
/// otherwise passes everything through. Plugged into a <c>HubConnection</c> with <see cref="Factory"/>, it measures
/// what a server really put on the wire, so that two servers sending the same envelopes can be compared byte for byte.
/// </summary>
internal sealed class CountingWebSocket(WebSocket inner, WireCounter counter) : WebSocket
{
    public override WebSocketCloseStatus? CloseStatus => inner.CloseStatus;

    public override string? CloseStatusDescription => inner.CloseStatusDescription;

    public override WebSocketState State => inner.State;

    public override string? SubProtocol => inner.SubProtocol;

    /// <summary>
    /// For <see cref="HttpConnectionOptions.WebSocketFactory"/>: a <see cref="ClientWebSocket"/> with the connection's
    /// headers and <see cref="HttpConnectionOptions.WebSocketConfiguration"/>, counted into <paramref name="counter"/>.
    /// </summary>
    public static Func<WebSocketConnectionContext, CancellationToken, ValueTask<WebSocket>> Factory(WireCounter counter) =>
        async (context, cancellationToken) =>
        {
            var socket = new ClientWebSocket();
            try
            {
                foreach (var (name, value) in context.Options.Headers)
                {
                    socket.Options.SetRequestHeader(name, value);
                }

                context.Options.WebSocketConfiguration?.Invoke(socket.Options);
                await socket.ConnectAsync(context.Uri, cancellationToken);
                return new CountingWebSocket(socket, counter);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await inner.ReceiveAsync(buffer, cancellationToken);
        counter.Add(result.Count);
        return result;
    }

    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await inner.ReceiveAsync(buffer, cancellationToken);
        counter.Add(result.Count);
        return result;
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken) =>
        inner.SendAsync(buffer, messageType, messageFlags, cancellationToken);

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override void Abort() => inner.Abort();

    public override void Dispose() => inner.Dispose();
}
