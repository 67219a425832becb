using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Recorder.Data.Interactions;
using Recorder.Hub.Auth;

namespace Recorder.Hub.XAgentWeb;

/// <summary>
/// One XAgent web socket, as the original speaks it: accepted first, then the user is checked (a refusal is a
/// <c>failed</c> frame and close 1000); the connect frame; <c>{"type":"recorder"}</c> starts the run and the pongs
/// (every <see cref="RecorderOptions.PongInterval"/>), <c>{"type":"ping"}</c> is answered with a pong (but the ping
/// with which the UI answers each pong), <c>{"type":"pause"}</c>, <c>{"type":"play"}</c> and <c>{"type":"speed","value":2}</c>
/// control the playback (a refused one is answered with a <c>control_refused</c> frame, and the socket stays open), other types are ignored. The raws come from the same catch-up subscription as a hub connection's, from seq 1 (or after
/// <c>after_seq</c> when re-attaching), each once, in seq order; after <c>finished</c>/<c>failed</c> the socket is closed
/// 1000 once the client closes or after <see cref="EndCloseDelay"/>. A frame that is not a JSON object closes it 1003, a
/// frame over <see cref="RecorderSocketEndpoint.MaxFrameBytes"/> 1009. A socket that drops detaches like a hub
/// connection: the disconnect grace starts, and a socket with the same client_id re-attaches.
/// </summary>
internal sealed partial class RecorderSocketSession(RecorderSocketEndpoint endpoint, HttpContext context, WebSocket socket)
{
    public const string AfterSeqKey = "after_seq";

    /// <summary>How long the socket stays open after the run's last frame when the client does not close it.</summary>
    public static readonly TimeSpan EndCloseDelay = TimeSpan.FromSeconds(2);

    /// <summary>A ping this soon after a pong is the client's answer to it, not a ping to answer.</summary>
    private static readonly TimeSpan PingAnswerWindow = TimeSpan.FromSeconds(5);

    /// <summary>How long the client's answer to the close may take while the instance stops.</summary>
    private static readonly TimeSpan ShutdownCloseTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long a close frame, and the client's answer to it, may take.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly string _connectionId = RecorderSocketEndpoint.ConnectionPrefix + Guid.NewGuid().ToString("N");
    private readonly CancellationToken _aborted = context.RequestAborted;
    private readonly SocketWriter _writer = new(socket, context.RequestAborted);
    private readonly ILogger _logger = endpoint.Logger;

    public async Task RunAsync()
    {
        var clientId = context.GetRouteValue("client_id") as string;
        var query = context.Request.Query;
        string? userId = query[Client.Contracts.RecorderProtocol.UserIdKey];
        InteractionRow interaction;
        bool created;
        long afterSeq = 0;
        try
        {
            var refusal = await endpoint.Users.FailureAsync(userId, query[Client.Contracts.RecorderProtocol.TokenKey], UserCheck.ProductionMode, context.Connection.RemoteIpAddress, _aborted);
            if (refusal is null && !TryAfterSeq(out afterSeq))
            {
                refusal = $"{AfterSeqKey} must be a whole number, 0 or more.";
            }

            Connect.ConnectDecision decision = refusal is null
                ? await endpoint.Sessions.ConnectAsync(_connectionId, userId!, clientId, query[Client.Contracts.RecorderProtocol.RecorderDirKey], NullIfEmpty(query[Client.Contracts.RecorderProtocol.SpeedKey]), _aborted)
                : new(null, false, refusal);
            if (decision.Interaction is null)
            {
                Log.Refused(_logger, clientId ?? "", decision.Refusal!);
                await RefuseAsync(decision.Refusal!);
                return;
            }

            interaction = decision.Interaction;
            created = decision.Created;
        }
        catch (Exception exception) when (!_aborted.IsCancellationRequested)
        {
            // The database is unreachable: nothing was attached; the client may connect again.
            Log.ConnectFailed(_logger, exception, clientId ?? "");
            await CloseAsync(WebSocketCloseStatus.InternalServerError, "the server could not reach its database; connect again");
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await AttachedAsync(interaction, created ? 0 : afterSeq);
    }

    private async Task AttachedAsync(InteractionRow interaction, long afterSeq)
    {
        var interactionId = interaction.InteractionId;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_aborted);
        try
        {
            await endpoint.Attach.AttachAsync(_connectionId, interaction, _writer, context.Abort, afterSeq, _aborted);

            var receiving = ReceiveAsync(interactionId, interaction.UserId, stop.Token);
            var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var onStopping = endpoint.Stopping.Register(() => stopping.TrySetResult());
            var first = await Task.WhenAny(receiving, _writer.Ended, stopping.Task);
            if (first == stopping.Task)
            {
                // Like SignalR's connections at shutdown: closed at once; the client reconnects (elsewhere) with after_seq.
                await CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "the server is stopping; connect again with after_seq");
                await Task.WhenAny(receiving, Task.Delay(ShutdownCloseTimeout, CancellationToken.None));
            }
            else if (first == receiving)
            {
                var (status, reason) = await receiving;
                await CloseAsync(status, reason);
                await DrainUntilClosedAsync();
            }
            else
            {
                // The run is over: close once the client closes, or after a short delay.
                var ended = await _writer.Ended;
                await Task.WhenAny(receiving, Task.Delay(EndCloseDelay, _aborted));
                await CloseAsync(WebSocketCloseStatus.NormalClosure, ended);

                // The client's answer to the close (its own close frame) ends the receive loop; not waited for ever.
                await Task.WhenAny(receiving, Task.Delay(CloseTimeout, CancellationToken.None));
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
        {
            // the socket dropped
        }
        catch (Exception exception)
        {
            Log.SessionFailed(_logger, exception, _connectionId, interactionId);
            await CloseAsync(WebSocketCloseStatus.InternalServerError, "the server failed; connect again with after_seq");
        }
        finally
        {
            await stop.CancelAsync();
            await endpoint.Departures.ForgetAsync(_connectionId);
        }
    }

    /// <summary>
    /// Reads the client's frames until it closes (status 1000, no reason) or sends one that is not allowed (the close status and
    /// reason to answer with). Never throws: a dropped socket ends it like a close.
    /// </summary>
    private async Task<(WebSocketCloseStatus Status, string Reason)> ReceiveAsync(string interactionId, string userId, CancellationToken cancellationToken)
    {
        var buffer = new byte[RecorderSocketEndpoint.MaxFrameBytes];
        var started = false;
        try
        {
            while (true)
            {
                var count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (count == buffer.Length)
                    {
                        Log.BadFrame(_logger, _connectionId, "oversized");
                        return (WebSocketCloseStatus.MessageTooBig, $"frames are limited to {RecorderSocketEndpoint.MaxFrameBytes} bytes");
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
                    count += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return (WebSocketCloseStatus.NormalClosure, "");
                }

                if (result.MessageType != WebSocketMessageType.Text || TypeOf(buffer.AsMemory(0, count)) is not { } type)
                {
                    Log.BadFrame(_logger, _connectionId, result.MessageType.ToString());
                    return (WebSocketCloseStatus.InvalidMessageType, "frames must be JSON text objects such as {\"type\":\"recorder\"}");
                }

                switch (type)
                {
                    case "recorder" when !started:
                        started = true;
                        await endpoint.Runs.RequestAsync(interactionId, cancellationToken);
                        _ = PongAsync(cancellationToken);
                        break;
                    case "ping" when !_writer.IsAnswerToPong(PingAnswerWindow):
                        await _writer.Pong(endpoint.PongInterval);
                        break;
                    case "pause":
                        await ControlAsync(endpoint.Playback.PauseAsync(interactionId, userId, cancellationToken));
                        break;
                    case "play":
                        await ControlAsync(endpoint.Playback.PlayAsync(interactionId, userId, cancellationToken));
                        break;
                    case "speed":
                        await ControlAsync(SpeedOf(buffer.AsMemory(0, count)) is { } speed
                            ? endpoint.Playback.SetSpeedAsync(interactionId, userId, speed, cancellationToken)
                            : Task.FromException(new Microsoft.AspNetCore.SignalR.HubException("a speed frame needs a number \"value\", e.g. {\"type\":\"speed\",\"value\":2}.")));
                        break;
                    default:
                        break; // "connect", "disconnect", a second "recorder" and any other type: nothing to do, as in the original
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException or Microsoft.AspNetCore.Connections.ConnectionAbortedException)
        {
            return (WebSocketCloseStatus.NormalClosure, "");
        }
    }

    /// <summary>Awaits a playback call; a refused one is answered with a <c>control_refused</c> frame (the socket stays open).</summary>
    private async Task ControlAsync(Task call)
    {
        try
        {
            await call;
        }
        catch (Microsoft.AspNetCore.SignalR.HubException refused)
        {
            Log.ControlRefused(_logger, _connectionId, refused.Message);
            await _writer.SendAsync(XAgentFrames.ControlRefused(refused.Message), CloseTimeout);
        }
    }

    /// <summary>The <c>value</c> of a speed frame, or null when it has no number there.</summary>
    private static double? SpeedOf(ReadOnlyMemory<byte> frame)
    {
        using var document = JsonDocument.Parse(frame);
        return document.RootElement.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var speed)
            ? speed
            : null;
    }

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    /// <summary>The frame's <c>type</c> ("" when it has none), or null when it is not a JSON object.</summary>
    private static string? TypeOf(ReadOnlyMemory<byte> frame)
    {
        try
        {
            using var document = JsonDocument.Parse(frame);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            return document.RootElement.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : "";
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The pong every <see cref="RecorderOptions.PongInterval"/>, from the run's start until the socket ends.</summary>
    private async Task PongAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(endpoint.PongInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await _writer.Pong(endpoint.PongInterval);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
        {
            // the socket ended, or did not take its pong in time (then it was reset)
        }
    }

    private bool TryAfterSeq(out long afterSeq)
    {
        afterSeq = 0;
        string? text = context.Request.Query[AfterSeqKey];
        return string.IsNullOrEmpty(text)
            || (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out afterSeq) && afterSeq >= 0);
    }

    private async Task RefuseAsync(string reason)
    {
        try
        {
            await _writer.SendAsync(XAgentFrames.Refused(reason), CloseTimeout);
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
        {
            return;
        }

        await CloseAsync(WebSocketCloseStatus.NormalClosure, "");
        await DrainUntilClosedAsync();
    }

    private Task CloseAsync(WebSocketCloseStatus status, string reason) => _writer.CloseAsync(status, reason, CloseTimeout);

    /// <summary>Reads (and ignores) what the client still sends until its close frame, for a little while.</summary>
    private async Task DrainUntilClosedAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_aborted);
        timeout.CancelAfter(CloseTimeout);
        var buffer = new byte[1024];
        try
        {
            while (socket.State == WebSocketState.CloseSent)
            {
                await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
        {
            // gone, or took too long: the socket is reset when the request ends
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6101, EventName = "SocketRefused", Level = LogLevel.Information, Message = "XAgent socket for {ClientId} refused: {Reason}")]
        public static partial void Refused(ILogger logger, string clientId, string reason);

        [LoggerMessage(EventId = 6102, EventName = "SocketConnectFailed", Level = LogLevel.Warning, Message = "XAgent socket for {ClientId} could not connect; closing it so that it connects again")]
        public static partial void ConnectFailed(ILogger logger, Exception exception, string clientId);

        [LoggerMessage(EventId = 6103, EventName = "SocketBadFrame", Level = LogLevel.Information, Message = "XAgent socket {ConnectionId} sent a frame that is not allowed ({Kind}); closing it")]
        public static partial void BadFrame(ILogger logger, string connectionId, string kind);

        [LoggerMessage(EventId = 6104, EventName = "SocketFailed", Level = LogLevel.Error, Message = "XAgent socket {ConnectionId} of {InteractionId} failed")]
        public static partial void SessionFailed(ILogger logger, Exception exception, string connectionId, string interactionId);

        [LoggerMessage(EventId = 6105, EventName = "SocketControlRefused", Level = LogLevel.Information, Message = "XAgent socket {ConnectionId}: playback frame refused: {Reason}")]
        public static partial void ControlRefused(ILogger logger, string connectionId, string reason);
    }
}
