using Microsoft.AspNetCore.SignalR;
using Recorder.Client.Contracts;
using Recorder.Data.Interactions;
using Recorder.Hub.Delivery;
using Recorder.Hub.Presence;

namespace Recorder.Hub.Connect;

/// <summary>
/// What happens when a connection arrives, hub connection or XAgent web socket alike, in one order: the connection is
/// counted here (presence), its outbox opened (delivery), the connect envelope sent, then its subscription made. For a
/// hub connection also the connect itself (<see cref="InteractionSessions"/>), the refusal, and <c>Resume</c>'s
/// attach to another interaction; <see cref="ConnectionDepartures"/> is the way out.
/// </summary>
public sealed partial class ConnectionAttach(
    InteractionSessions sessions,
    Subscriptions subscriptions,
    LocalConnections local,
    ConnectionDepartures departures,
    ResumeLimits limits,
    ILogger<ConnectionAttach> logger)
{
    private const string InteractionKey = "interaction_id";
    private static readonly TimeSpan RefusalCloseDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>The interaction the hub connection is attached to; a <see cref="HubException"/> when it is not.</summary>
    public static string InteractionOf(HubCallerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items[InteractionKey] as string
            ?? throw new HubException("this connection is not attached to an interaction.");
    }

    /// <summary>
    /// Attaches the connection to <paramref name="interaction"/>: counted, outbox opened (<paramref name="writer"/>
    /// writes to it, <paramref name="abort"/> resets its transport), the connect envelope, then the raws after
    /// <paramref name="afterSeq"/> (none yet when null: a re-attaching hub connection says where it stands with Resume).
    /// </summary>
    public async Task AttachAsync(string connectionId, InteractionRow interaction, IRecorderClient writer, Action abort, long? afterSeq, CancellationToken aborted)
    {
        ArgumentNullException.ThrowIfNull(interaction);
        ArgumentNullException.ThrowIfNull(writer);
        local.Add(connectionId, interaction.InteractionId);
        subscriptions.Open(connectionId, writer, abort, aborted);
        await writer.Message(EnvelopeFactory.Connected(interaction));
        if (afterSeq is { } seq)
        {
            await subscriptions.SubscribeAsync(connectionId, interaction.InteractionId, seq, aborted);
        }
    }

    /// <summary>
    /// A hub connection arrives: connected to its interaction (a new one's raws follow from seq 1) or refused (the
    /// refusal, then the connection is closed); one the database could not take is dropped so that it reconnects.
    /// </summary>
    public async Task ConnectAsync(HubCallerContext context, IRecorderClient caller)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(caller);
        ConnectDecision decision;
        try
        {
            decision = await sessions.ConnectAsync(context, context.ConnectionAborted);
        }
        catch (Exception exception) when (!context.ConnectionAborted.IsCancellationRequested)
        {
            // The database is unreachable: drop the connection so that the client reconnects.
            Log.AttachFailed(logger, exception, context.ConnectionId, "(connect)");
            DropForReconnect(context);
            return;
        }

        if (decision.Interaction is not { } interaction)
        {
            Log.Refused(logger, context.ConnectionId, decision.Refusal!);
            if (decision.RefusalKind == InteractionSessions.NotReadyKind)
            {
                // Passing (PostgreSQL, its listener or Redis is coming back), and the clients take a refusal as final:
                // drop the connection so that they reconnect, as when the database cannot be reached at all.
                DropForReconnect(context);
                return;
            }

            await caller.Message(EnvelopeFactory.Refused(decision.Refusal!));
            _ = CloseSoonAsync(context);
            return;
        }

        context.Items[InteractionKey] = interaction.InteractionId;
        try
        {
            await AttachAsync(context.ConnectionId, interaction, caller, () => DropForReconnect(context),
                decision.Created ? 0 : null, context.ConnectionAborted);
        }
        catch (Exception exception) when (exception is not HubException)
        {
            // SignalR skips OnDisconnectedAsync when the connect throws: undo here.
            Log.AttachFailed(logger, exception, context.ConnectionId, interaction.InteractionId);
            await departures.ForgetAsync(context.ConnectionId);
            DropForReconnect(context);
        }
    }

    /// <summary>
    /// <c>Resume</c>: within the connection's limits, attaches it to another of the caller's interactions when it
    /// names one (checked to be the caller's), then moves its cursor there.
    /// </summary>
    public async Task ResumeAsync(HubCallerContext context, string interactionId, long afterSeq)
    {
        ArgumentNullException.ThrowIfNull(context);
        var attached = InteractionOf(context);
        if (afterSeq < 0)
        {
            throw new HubException("afterSeq must be 0 or more.");
        }

        limits.Check(context.ConnectionId, interactionId);
        if (interactionId != attached)
        {
            var other = await sessions.AttachAsync(context, interactionId, context.ConnectionAborted);
            local.Add(context.ConnectionId, other.InteractionId);
        }

        await subscriptions.SubscribeAsync(context.ConnectionId, interactionId, afterSeq, context.ConnectionAborted);
    }

    /// <summary>A hub connection leaves: forgotten if it was attached (a refused one never was).</summary>
    public Task DisconnectAsync(HubCallerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.ContainsKey(InteractionKey) ? departures.ForgetAsync(context.ConnectionId) : Task.CompletedTask;
    }

    /// <summary>
    /// Drops the transport without SignalR's close message: <see cref="HubCallerContext.Abort"/> would tell the
    /// client not to reconnect, which is right for a refusal but not for a passing failure (nor for a connection whose
    /// writes are stuck: a graceful close would wait for them).
    /// </summary>
    private static void DropForReconnect(HubCallerContext context)
    {
        if (context.GetHttpContext() is { } http)
        {
            http.Abort();
        }
        else
        {
            context.Abort();
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, EventName = "ConnectionRefused", Level = LogLevel.Information, Message = "Connection {ConnectionId} refused: {Reason}")]
        public static partial void Refused(ILogger logger, string connectionId, string reason);

        [LoggerMessage(EventId = 4102, EventName = "AttachFailed", Level = LogLevel.Warning, Message = "Connection {ConnectionId} could not attach to {InteractionId}; closing it so that it reconnects")]
        public static partial void AttachFailed(ILogger logger, Exception exception, string connectionId, string interactionId);
    }
}
