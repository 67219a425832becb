using System.Net.WebSockets;
using System.Text;
using Recorder.Client.Contracts;

namespace Recorder.Hub.XAgentWeb;

/// <summary>
/// The one writer of an XAgent web socket: the delivery's drain task, the pongs and the close all send through it, one
/// at a time (a WebSocket allows only one send at once). It is the connection's <see cref="IRecorderClient"/> for
/// <see cref="Delivery.Subscriptions"/>: envelopes become <see cref="XAgentFrames"/>.
/// </summary>
internal sealed class SocketWriter(WebSocket socket, CancellationToken aborted) : IRecorderClient
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _closeSent;
    private long _unansweredPongAt; // Environment.TickCount64 of the last pong not yet answered by a ping; 0 when none

    /// <summary>Completes with the status once the run's last frame (<c>finished</c>, <c>failed</c>) or the closed notice was written.</summary>
    public Task<string> Ended => _ended.Task;

    public async Task Message(RecorderEnvelope envelope)
    {
        await SendAsync(XAgentFrames.Of(envelope), Timeout.InfiniteTimeSpan);
        if (envelope.IsTerminal || envelope.Status == RecorderStatus.Closed)
        {
            _ended.TrySetResult(envelope.Status);
        }
    }

    /// <summary>The pong; a socket that does not take it within <paramref name="timeout"/> is reset.</summary>
    public Task Pong(TimeSpan timeout)
    {
        // Marked before the write: the client's answer may come back before the write's continuation runs.
        Interlocked.Exchange(ref _unansweredPongAt, Environment.TickCount64);
        return SendAsync(XAgentFrames.Pong, timeout);
    }

    /// <summary>
    /// Whether a ping arriving now is the client's answer to a pong sent within <paramref name="window"/> (XAgent's UI
    /// answers every pong with a ping: answering that ping again would bounce pongs and pings for ever). Takes the pong.
    /// </summary>
    public bool IsAnswerToPong(TimeSpan window)
    {
        var at = Interlocked.Exchange(ref _unansweredPongAt, 0);
        return at != 0 && Environment.TickCount64 - at <= (long)window.TotalMilliseconds;
    }

    public Task Pong() => Pong(Timeout.InfiniteTimeSpan);

    /// <summary>Writes one text frame; throws when the socket is closing or gone, so that a raw is never counted as sent when it was not.</summary>
    public async Task SendAsync(string text, TimeSpan timeout)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        await _lock.WaitAsync(aborted);
        try
        {
            if (_closeSent || socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            {
                throw new WebSocketException(WebSocketError.InvalidState, "the socket is closing");
            }

            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            cancellation.CancelAfter(timeout);
            await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellation.Token);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Sends the close frame (once; nothing is written after it). A socket that cannot take it is left to be reset.</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string reason, TimeSpan timeout)
    {
        try
        {
            await _lock.WaitAsync(aborted);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            if (_closeSent || socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            {
                return;
            }

            _closeSent = true;
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            cancellation.CancelAfter(timeout);
            await socket.CloseOutputAsync(status, reason, cancellation.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
        {
            // the client is gone: nothing to close
        }
        finally
        {
            _lock.Release();
        }
    }
}
