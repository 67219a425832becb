using Microsoft.AspNetCore.SignalR;
using Recorder.Client.Contracts;
using Recorder.Hub.Delivery;
using Recorder.Hub.Playback;
using Recorder.Hub.Presence;
using Recorder.Hub.Runs;

namespace Recorder.Hub.Hub;

/// <summary>
/// The hub at <see cref="RecorderProtocol.HubPath"/>: attaches each connection to its interaction and subscribes it
/// to the interaction's raws; the rest goes to <see cref="InteractionSessions"/>, <see cref="Subscriptions"/> and
/// <see cref="RunScheduler"/>.
/// </summary>
public sealed partial class RecorderHub(
    InteractionSessions sessions,
    Subscriptions subscriptions,
    RunScheduler runs,
    LocalConnections local,
    ConnectionDepartures departures,
    ResumeLimits limits,
    PlaybackControl playback,
    ILogger<RecorderHub> logger) : Hub<IRecorderClient>, IRecorderHub
{
    private const string InteractionKey = "interaction_id";
    private static readonly TimeSpan RefusalCloseDelay = TimeSpan.FromMilliseconds(500);

    public override async Task OnConnectedAsync()
    {
        ConnectDecision decision;
        try
        {
            decision = await sessions.ConnectAsync(Context, Context.ConnectionAborted);
        }
        catch (Exception exception) when (!Context.ConnectionAborted.IsCancellationRequested)
        {
            // The database is unreachable: drop the connection so that the client reconnects.
            Log.AttachFailed(logger, exception, Context.ConnectionId, "(connect)");
            DropForReconnect();
            return;
        }

        if (decision.Interaction is not { } interaction)
        {
            Log.Refused(logger, Context.ConnectionId, decision.Refusal!);
            if (decision.RefusalKind == InteractionSessions.NotReadyKind)
            {
                // Passing (PostgreSQL, its listener or Redis is coming back), and the clients take a refusal as final:
                // drop the connection so that they reconnect, as when the database cannot be reached at all.
                DropForReconnect();
                return;
            }

            await Clients.Caller.Message(EnvelopeFactory.Refused(decision.Refusal!));
            _ = CloseSoonAsync(Context);
            return;
        }

        // The connect envelope first; a new interaction's raws follow from seq 1, while a connection re-attaching to
        // an interaction says where it stands with Resume(id, afterSeq).
        local.Add(Context.ConnectionId, interaction.InteractionId);
        Context.Items[InteractionKey] = interaction.InteractionId;
        subscriptions.Open(Context, Clients.Caller);
        try
        {
            await Clients.Caller.Message(EnvelopeFactory.Connected(interaction));
            if (decision.Created)
            {
                await subscriptions.SubscribeAsync(Context.ConnectionId, interaction.InteractionId, 0, Context.ConnectionAborted);
            }
        }
        catch (Exception exception) when (exception is not HubException)
        {
            // SignalR skips OnDisconnectedAsync when this method throws: undo here.
            Log.AttachFailed(logger, exception, Context.ConnectionId, interaction.InteractionId);
            await ForgetAsync();
            DropForReconnect();
        }
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.ContainsKey(InteractionKey))
        {
            await ForgetAsync();
        }
    }

    public Task StartRecorder() => runs.RequestAsync(AttachedInteraction(), Context.ConnectionAborted);

    public Task Ping() => Clients.Caller.Pong();

    public async Task Resume(string interactionId, long afterSeq)
    {
        var attached = AttachedInteraction();
        if (afterSeq < 0)
        {
            throw new HubException("afterSeq must be 0 or more.");
        }

        limits.Check(Context.ConnectionId, interactionId);

        if (interactionId != attached)
        {
            // Another of the caller's interactions: attach to it too (checked to be the caller's).
            var other = await sessions.AttachAsync(Context, interactionId, Context.ConnectionAborted);
            local.Add(Context.ConnectionId, other.InteractionId);
        }

        await subscriptions.SubscribeAsync(Context.ConnectionId, interactionId, afterSeq, Context.ConnectionAborted);
    }

    public Task Pause() => playback.PauseAsync(AttachedInteraction(), Context.UserIdentifier, Context.ConnectionAborted);

    public Task Play() => playback.PlayAsync(AttachedInteraction(), Context.UserIdentifier, Context.ConnectionAborted);

    public Task SetSpeed(double speed) => playback.SetSpeedAsync(AttachedInteraction(), Context.UserIdentifier, speed, Context.ConnectionAborted);

    public Task SkipToEnd() => playback.SkipToEndAsync(AttachedInteraction(), Context.UserIdentifier, Context.ConnectionAborted);

    private Task ForgetAsync() => departures.ForgetAsync(Context.ConnectionId);

    /// <summary>
    /// Drops the transport without SignalR's close message: <see cref="HubCallerContext.Abort"/> would tell the
    /// client not to reconnect, which is right for a refusal but not for a passing failure.
    /// </summary>
    private void DropForReconnect()
    {
        if (Context.GetHttpContext() is { } http)
        {
            http.Abort();
        }
        else
        {
            Context.Abort();
        }
    }

    /// <summary>
    /// Closes a refused connection. An immediate abort can cancel the transport's last write, losing the refusal;
    /// the pause lets the refusal reach the client first (which usually closes on its own).
    /// </summary>
    private static async Task CloseSoonAsync(HubCallerContext context)
    {
        await Task.Delay(RefusalCloseDelay, context.ConnectionAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        context.Abort();
    }

    private string AttachedInteraction() =>
        Context.Items[InteractionKey] as string
        ?? throw new HubException("this connection is not attached to an interaction.");

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Connection {ConnectionId} refused: {Reason}")]
        public static partial void Refused(ILogger logger, string connectionId, string reason);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Connection {ConnectionId} could not attach to {InteractionId}; closing it so that it reconnects")]
        public static partial void AttachFailed(ILogger logger, Exception exception, string connectionId, string interactionId);
    }
}
