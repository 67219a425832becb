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
        var outcome = await sessions.ConnectAsync(Context.User!, Context.GetHttpContext(), Context.ConnectionAborted);
        if (outcome.Interaction is not { } interaction)
        {
            Log.Refused(logger, Context.ConnectionId, outcome.Refusal!);
            await Clients.Caller.Message(EnvelopeFactory.Refused(outcome.Refusal!));
            _ = CloseSoonAsync(Context);
            return;
        }

        Context.Items[InteractionKey] = interaction.InteractionId;
        local.Add(Context.ConnectionId);
        await Groups.AddToGroupAsync(Context.ConnectionId, interaction.InteractionId, Context.ConnectionAborted);
        await sessions.AttachAsync(Context.ConnectionId, interaction.InteractionId, Context.ConnectionAborted);
        await Clients.Caller.Message(EnvelopeFactory.Connected(interaction));
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.ContainsKey(InteractionKey))
        {
            local.Remove(Context.ConnectionId);
            await sessions.DetachAsync(Context.ConnectionId, CancellationToken.None);
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
            await sessions.AttachAsync(Context.ConnectionId, interaction.InteractionId, Context.ConnectionAborted);
        }

        await sessions.SendBacklogAsync(Clients.Caller, interactionId, afterSeq, Context.ConnectionAborted);
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
    }
}
