using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Recorder.Client.Contracts;
using Recorder.Data.Interactions;
using Recorder.Hub.Auth;
using Recorder.Hub.Health;
using Recorder.Hub.Metrics;
using Recorder.Hub.Playback;
using Recorder.Hub.Recordings;
using Recorder.Hub.Runs;

namespace Recorder.Hub.Connect;

/// <summary>The connect, re-attach and attach-another rules behind <see cref="RecorderHub"/>.</summary>
public sealed partial class InteractionSessions(
    InteractionRepository interactions,
    InstanceIdentity instance,
    IOptions<AuthOptions> authOptions,
    IOptions<RecorderOptions> recorderOptions,
    IOptionsMonitor<ReplayOptions> replayOptions,
    IHostApplicationLifetime lifetime,
    Readiness readiness,
    RecorderMetrics metrics,
    ILogger<InteractionSessions> logger)
{
    public const string RunningRefusal = "You have a running interaction, please wait for it to finish!";

    /// <summary>The refusal kind of a connect to an instance that is not ready (a passing state).</summary>
    public const string NotReadyKind = "not_ready";

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex ClientIdPattern();

    /// <summary>Whether <paramref name="id"/> can name an interaction (the rule a <c>client_id</c> follows).</summary>
    public static bool IsInteractionId(string? id) => id is not null && ClientIdPattern().IsMatch(id);

    /// <summary>
    /// Creates the interaction a new <c>client_id</c> names, or re-attaches to the caller's own interaction of that id,
    /// and records the connection as attached to it: one database round trip.
    /// </summary>
    public async Task<ConnectDecision> ConnectAsync(HubCallerContext context, CancellationToken cancellationToken)
    {
        var http = context.GetHttpContext();
        var userId = context.User?.FindFirstValue(ClaimTypes.NameIdentifier);
        if (userId is null || http is null)
        {
            return Counted(Refuse(RecorderAuthenticationHandler.FailureOf(http), "auth"));
        }

        var parameters = ConnectParameters.Of(http);
        return await ConnectAsync(context.ConnectionId, userId, parameters.ClientId, parameters.RecorderDir, parameters.Speed, cancellationToken);
    }

    /// <summary>
    /// The same for a connection that is not a hub connection (the XAgent web socket): the authenticated
    /// <paramref name="userId"/>, the <paramref name="clientId"/> it names (generated when null) its <c>recorder_dir</c> and the <c>speed</c> it asks for (null: the server's).
    /// </summary>
    public async Task<ConnectDecision> ConnectAsync(string connectionId, string userId, string? clientId, string? recorderDir, string? speedText, CancellationToken cancellationToken) =>
        Counted(await readiness.NotReadyAsync(cancellationToken) is { } notReady
            ? Refuse($"the hub is not ready: {notReady}", NotReadyKind)
            : await DecideAsync(connectionId, userId, clientId, recorderDir, speedText, cancellationToken));

    private async Task<ConnectDecision> DecideAsync(string connectionId, string userId, string? clientId, string? recorderDir, string? speedText, CancellationToken cancellationToken)
    {
        clientId ??= Guid.NewGuid().ToString("N");
        if (!IsInteractionId(clientId))
        {
            return Refuse("client_id must be 1 to 64 characters among letters, digits, '-' and '_'.", "client_id");
        }

        // A new interaction keeps the speed asked for (or the server's); re-attaching leaves the interaction's own.
        var replay = replayOptions.CurrentValue;
        var speed = PlaybackSpeed.Parse(speedText, replay, out var speedRefusal) ?? replay.Speed;
        if (speedRefusal is not null)
        {
            return Refuse(speedRefusal, "speed");
        }

        var root = recorderOptions.Value.RecordingsRoot;
        try
        {
            RecorderDir.ResolveFolder(root, recorderDir ?? "");
        }
        catch (RecorderDirException exception)
        {
            // No new interaction can come of it; re-attaching keeps the recording the interaction was created with.
            return await interactions.AttachConnectionAsync(connectionId, clientId, userId, instance.Id, cancellationToken) is { } existing
                ? new ConnectDecision(existing, false, null)
                : Refuse(exception.Message, "recorder_dir");
        }

        var candidate = new InteractionRow
        {
            InteractionId = clientId,
            UserId = userId,
            Description = "XAgent Recorder",
            Agent = "XAgent",
            Mode = "auto",
            RecorderRootDir = recorderDir, // relative to the recordings root: no server path reaches a client
            RecorderDir = recorderDir,
            Status = RecorderStatus.Waiting,
            Message = "waiting...",
            CurrentStep = Guid.NewGuid().ToString("N"),
            CallMethod = "recorder",
            ReplaySpeed = speed,
        };

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var auth = authOptions.Value;
            var result = await interactions.ConnectAsync(candidate, connectionId, instance.Id, auth.CheckRunning,
                new UserLimits(auth.LiveInteractionsPerUser, auth.ConnectionsPerUser), cancellationToken);
            switch (result.Outcome)
            {
                case ConnectOutcome.Created:
                    Log.Created(logger, clientId, userId);
                    return new ConnectDecision(result.Interaction, true, null);
                case ConnectOutcome.Reattached:
                    return new ConnectDecision(result.Interaction, false, null);
                case ConnectOutcome.UserBusy:
                    return Refuse(RunningRefusal, "running");
                case ConnectOutcome.OtherUser:
                    return Refuse("client_id names an interaction of another user.", "other_user");
                case ConnectOutcome.TooManyInteractions:
                    return Refuse($"You have {auth.LiveInteractionsPerUser} interactions that are not over, the most allowed; wait for one to finish.", "too_many_interactions");
                case ConnectOutcome.TooManyConnections:
                    return Refuse($"You have {auth.ConnectionsPerUser} open connections, the most allowed; close one first.", "too_many_connections");
                default:
                    continue; // another connection created it between the statement's snapshot and its insert: again
            }
        }

        return Refuse("client_id is in use; connect again.", "busy");
    }

    /// <summary>
    /// Attaches the connection to another of the caller's interactions; returns it, or throws a
    /// <see cref="HubException"/> that says why not.
    /// </summary>
    public async Task<InteractionRow> AttachAsync(HubCallerContext context, string interactionId, CancellationToken cancellationToken)
    {
        var interaction = IsInteractionId(interactionId) && context.UserIdentifier is { } userId
            ? await interactions.AttachConnectionAsync(context.ConnectionId, interactionId, userId, instance.Id, cancellationToken)
            : null;
        return interaction ?? throw new HubException($"interaction '{interactionId}' does not exist or is not yours.");
    }

    /// <summary>
    /// Records that the connection left. Not while the instance stops: it closes every connection at once then, and
    /// the presence service removes the instance with all its connections in one statement (a restart of an instance
    /// with thousands of connections would otherwise write one detach per connection while its clients wait).
    /// </summary>
    public Task DetachAsync(string connectionId, CancellationToken cancellationToken) =>
        lifetime.ApplicationStopping.IsCancellationRequested
            ? Task.CompletedTask
            : interactions.DetachConnectionAsync(connectionId, cancellationToken);

    private static ConnectDecision Refuse(string reason, string kind) => new(null, false, reason, kind);

    private ConnectDecision Counted(ConnectDecision decision)
    {
        if (decision.Interaction is null)
        {
            metrics.Refused(decision.RefusalKind ?? "other");
        }
        else
        {
            metrics.Connected(decision.Created);
        }

        return decision;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Interaction {InteractionId} created for user {UserId}")]
        public static partial void Created(ILogger logger, string interactionId, string userId);
    }
}
