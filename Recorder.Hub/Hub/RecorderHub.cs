using Microsoft.AspNetCore.SignalR;
using Recorder.Client.Contracts;
using Recorder.Hub.Push;
using Recorder.Hub.Runs;

namespace Recorder.Hub.Hub;

/// <summary>
/// The hub at <see cref="RecorderProtocol.HubPath"/>: attaches each connection to its interaction's group and
/// hands the rest to <see cref="InteractionSessions"/> and <see cref="RunScheduler"/>.
/// </summary>
public sealed partial class RecorderHub(
    InteractionSessions sessions,
    RunScheduler runs,
    LocalConnections local,
    ILogger<RecorderHub> logger) : Hub<IRecorderClient>, IRecorderHub
{
    private const string InteractionKey = "interaction_id";
    private static readonly TimeSpan RefusalCloseDelay = TimeSpan.FromMilliseconds(500);

    public override async Task OnConnectedAsync()
    {
        ConnectOutcome outcome;
        try
        {
            outcome = await sessions.ConnectAsync(Context.User!, Context.GetHttpContext(), Context.ConnectionAborted);
        }
        catch (Exception exception) when (!Context.ConnectionAborted.IsCancellationRequested)
        {
            // The database is unreachable: drop the connection so that the client reconnects.
            Log.AttachFailed(logger, exception, Context.ConnectionId, "(connect)");
            DropForReconnect();
            return;
        }

        if (outcome.Interaction is not { } interaction)
        {
            Log.Refused(logger, Context.ConnectionId, outcome.Refusal!);
            await Clients.Caller.Message(EnvelopeFactory.Refused(outcome.Refusal!));
            _ = CloseSoonAsync(Context);
            return;
        }

        // Attach, then send the connect envelope with the interaction as it is after the attach (a close that won
        // the race shows as "closed"), then join the group: the connect envelope is always the first message, and
        // the client's Resume, which SignalR runs only after this method, covers what was pushed before the join.
        try
        {
            local.Add(Context.ConnectionId, interaction.InteractionId);
            var attached = await sessions.AttachAsync(Context.ConnectionId, interaction.InteractionId, Context.ConnectionAborted);
            Context.Items[InteractionKey] = interaction.InteractionId;
            await Clients.Caller.Message(EnvelopeFactory.Connected(attached));
            await Groups.AddToGroupAsync(Context.ConnectionId, interaction.InteractionId, Context.ConnectionAborted);
        }
        catch (Exception exception) when (exception is not HubException)
        {
            // SignalR skips OnDisconnectedAsync when this method throws: undo here, and drop the connection so that
            // the client reconnects (and attaches again) instead of giving up.
            Log.AttachFailed(logger, exception, Context.ConnectionId, interaction.InteractionId);
            local.Remove(Context.ConnectionId);
            await DetachQuietlyAsync();
            DropForReconnect();
        }
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.ContainsKey(InteractionKey))
        {
            local.Remove(Context.ConnectionId);
            await DetachQuietlyAsync();
        }
    }

    /// <summary>Forgets the connection; if the database is unreachable, the instance's heartbeat stops counting it later.</summary>
    private async Task DetachQuietlyAsync()
    {
        try
        {
            await sessions.DetachAsync(Context.ConnectionId, CancellationToken.None);
        }
        catch (Exception exception)
        {
            Log.DetachFailed(logger, exception, Context.ConnectionId);
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

        if (interactionId != attached)
        {
            // Another of the caller's interactions: join its group too (the connection's own is joined on connect).
            var interaction = await sessions.FindOwnedAsync(Context.UserIdentifier, interactionId, Context.ConnectionAborted);
            await Groups.AddToGroupAsync(Context.ConnectionId, interaction.InteractionId, Context.ConnectionAborted);
            local.Add(Context.ConnectionId, interaction.InteractionId);
            await sessions.AttachAsync(Context.ConnectionId, interaction.InteractionId, Context.ConnectionAborted);
        }

        await sessions.SendBacklogAsync(Clients.Caller, interactionId, afterSeq, Context.ConnectionAborted);
    }

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

        [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Connection {ConnectionId} could not be detached")]
        public static partial void DetachFailed(ILogger logger, Exception exception, string connectionId);
    }
}
