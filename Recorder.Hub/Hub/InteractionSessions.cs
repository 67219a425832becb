using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Recorder.Client.Contracts;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;
using Recorder.Hub.Auth;
using Recorder.Hub.Push;
using Recorder.Hub.Recordings;
using Recorder.Hub.Runs;

namespace Recorder.Hub.Hub;

/// <summary>What happened to a connect request: the interaction it is attached to, or why it was refused.</summary>
public sealed record ConnectOutcome(InteractionRow? Interaction, string? Refusal);

/// <summary>The connect, re-attach and resume rules behind <see cref="RecorderHub"/>.</summary>
public sealed partial class InteractionSessions(
    InteractionRepository interactions,
    RawRepository raws,
    EnvelopeFactory envelopes,
    InstanceIdentity instance,
    IOptions<AuthOptions> authOptions,
    IOptions<RecorderOptions> recorderOptions,
    ILogger<InteractionSessions> logger)
{
    public const string RunningRefusal = "You have a running interaction, please wait for it to finish!";
    private const int ResumePage = 500;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex ClientIdPattern();

    /// <summary>
    /// Creates the interaction a new <c>client_id</c> names, or re-attaches to the caller's own interaction of that id.
    /// </summary>
    public async Task<ConnectOutcome> ConnectAsync(ClaimsPrincipal user, HttpContext? http, CancellationToken cancellationToken)
    {
        var userId = user.FindFirstValue(ClaimTypes.NameIdentifier);
        if (userId is null || http is null)
        {
            return Refuse(RecorderAuthenticationHandler.FailureOf(http));
        }

        var parameters = ConnectParameters.From(http.Request);
        var clientId = parameters.ClientId ?? Guid.NewGuid().ToString("N");
        if (!ClientIdPattern().IsMatch(clientId))
        {
            return Refuse("client_id must be 1 to 64 characters among letters, digits, '-' and '_'.");
        }

        var root = recorderOptions.Value.RecordingsRoot;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var existing = await interactions.FindAsync(clientId, cancellationToken);
            if (existing is not null)
            {
                // Re-attaching: the interaction keeps the recording it was created with.
                return existing.UserId == userId
                    ? new ConnectOutcome(existing, null)
                    : Refuse("client_id names an interaction of another user.");
            }

            try
            {
                RecorderDir.ResolveFolder(root, parameters.RecorderDir ?? "");
            }
            catch (RecorderDirException exception)
            {
                return Refuse(exception.Message);
            }

            var (created, userBusy) = await interactions.CreateAsync(new InteractionRow
            {
                InteractionId = clientId,
                UserId = userId,
                Description = "XAgent Recorder",
                Agent = "XAgent",
                Mode = "auto",
                RecorderRootDir = Path.Combine(Path.GetFullPath(root), parameters.RecorderDir!),
                RecorderDir = parameters.RecorderDir,
                Status = RecorderStatus.Waiting,
                Message = "waiting...",
                CurrentStep = Guid.NewGuid().ToString("N"),
                CallMethod = "recorder",
            }, authOptions.Value.CheckRunning, cancellationToken);
            if (userBusy)
            {
                return Refuse(RunningRefusal);
            }

            if (created is not null)
            {
                Log.Created(logger, created.InteractionId, userId);
                return new ConnectOutcome(created, null);
            }

            // Another connection created it between our read and insert: read it again.
        }

        return Refuse("client_id is in use; connect again.");
    }

    /// <summary>The caller's own interaction, or a <see cref="HubException"/> that says why not.</summary>
    public async Task<InteractionRow> FindOwnedAsync(string? userId, string interactionId, CancellationToken cancellationToken)
    {
        var interaction = interactionId is null || !ClientIdPattern().IsMatch(interactionId)
            ? null
            : await interactions.FindAsync(interactionId, cancellationToken);
        if (interaction is null || interaction.UserId != userId)
        {
            throw new HubException($"interaction '{interactionId}' does not exist or is not yours.");
        }

        return interaction;
    }

    /// <summary>Records the connection as attached to the interaction; returns the interaction as it is now.</summary>
    public async Task<InteractionRow> AttachAsync(string connectionId, string interactionId, CancellationToken cancellationToken) =>
        await interactions.AttachConnectionAsync(connectionId, interactionId, instance.Id, cancellationToken)
        ?? throw new HubException($"interaction '{interactionId}' does not exist.");

    public Task DetachAsync(string connectionId, CancellationToken cancellationToken) =>
        interactions.DetachConnectionAsync(connectionId, cancellationToken);

    /// <summary>Sends the caller every committed raw of the interaction with <c>seq &gt; afterSeq</c>, in order.</summary>
    public async Task SendBacklogAsync(IRecorderClient caller, string interactionId, long afterSeq, CancellationToken cancellationToken)
    {
        var last = afterSeq;
        await foreach (var page in raws.ListPagesAfterAsync(interactionId, afterSeq, ResumePage, cancellationToken))
        {
            foreach (var envelope in await envelopes.CreateAsync(interactionId, page, cancellationToken))
            {
                await caller.Message(envelope);
            }

            last = page[^1].Seq;
        }

        Log.Resumed(logger, interactionId, afterSeq, last);
    }

    private static ConnectOutcome Refuse(string reason) => new(null, reason);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Interaction {InteractionId} created for user {UserId}")]
        public static partial void Created(ILogger logger, string interactionId, string userId);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Debug, Message = "Resume of {InteractionId} after seq {AfterSeq} sent up to seq {LastSeq}")]
        public static partial void Resumed(ILogger logger, string interactionId, long afterSeq, long lastSeq);
    }
}
