using System.Text.Json.Nodes;
using Npgsql;
using Microsoft.Extensions.Options;
using Recorder.Client.Contracts;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;
using Recorder.Data.Workspace;
using Recorder.Hub.Playback;
using Recorder.Hub.Recordings;
using Recorder.XAgent;
using Recorder.XAgent.Replay;

namespace Recorder.Hub.Runs;

/// <summary>
/// Executes one run: the first <c>running</c> raw, the recording's steps at the pace its viewer chose (paused, played,
/// sped up or skipped to the end from any instance: <see cref="RunPacer"/>), and exactly one
/// <c>finished</c> or <c>failed</c> raw. A run taken over from another instance continues after the last raw written
/// (a replay is deterministic). Every raw is fenced by the run's lease: once the interaction is closed or another
/// instance owns the run, nothing more is written.
/// </summary>
public sealed partial class RunExecutor(
    RecordingResolver recordings,
    RawAppender appender,
    WorkspaceRepository workspace,
    InteractionRepository interactions,
    InstanceIdentity instance,
    PlaybackSignals playbackSignals,
    IOptionsMonitor<ReplayOptions> replayOptions,
    ILogger<RunExecutor> logger)
{
    /// <summary>Steps handed to the writer at once when they follow each other without a pause (speed 0).</summary>
    private const int StepsPerGroup = 64;

    public async Task RunAsync(RunClaim claim, CancellationToken cancellationToken)
    {
        var writer = new Writer(appender, claim.InteractionId, instance.Id, claim.LastSeq);
        using var signal = playbackSignals.Register(claim.InteractionId);
        var pacer = new RunPacer(claim.InteractionId, interactions, signal, replayOptions.CurrentValue.Speed);
        try
        {
            pacer.Start(claim);

            // The recording and its workspace come first: every raw, from the first on, shows the whole workspace.
            Recording recording;
            try
            {
                recording = await recordings.LoadAsync(claim.RecorderDir ?? "", claim.UserId, cancellationToken);
                await workspace.AddAsync(claim.InteractionId, recording.Workspace, cancellationToken);
            }
            catch (Exception exception) when (writer.LastSeq == 0 && !IsInfrastructure(exception) && exception is not OperationCanceledException)
            {
                // `running`, then `failed`, as the original does for a recording it cannot read.
                writer.Add(RecorderStatus.Running, null, null, false, isHuman: true, RecorderStatus.Running, "running...");
                await FailAsync(writer, claim.InteractionId, exception, cancellationToken);
                return;
            }

            if (writer.LastSeq == 0)
            {
                writer.RecordingVersion = recording.Version; // noted with the first raws
                writer.Add(RecorderStatus.Running, null, null, false, isHuman: true, RecorderStatus.Running, "running...");
            }
            else if (claim.RecordingVersion is { } begun && recording.Version is { } found && begun != found)
            {
                // Taken over after the recording was re-imported or its files changed: continuing would splice two.
                throw new RecordingFormatException(
                    $"recording '{claim.RecorderDir}' changed after this replay began (re-imported or its files edited); it cannot be continued.");
            }

            // seq 1 is the run's own `running` raw; step i of the recording is seq i + 2.
            var done = (int)Math.Clamp(writer.LastSeq - 1, 0, recording.Steps.Count);
            if (done > 0)
            {
                Log.Continuing(logger, claim.InteractionId, done, recording.Steps.Count);
            }

            // Each step is due at the previous one's due time plus its pause, at the speed the viewer wants now
            // (RunPacer): the time a commit takes is not added to every pause, so a loaded hub does not stretch the
            // run. While the run is paused nothing is committed.
            var previous = done > 0 ? recording.Steps[done - 1] : null;
            foreach (var step in recording.Steps.Skip(done))
            {
                await pacer.HoldWhilePausedAsync(cancellationToken);

                // A raw is committed before the pause that follows it; steps without a pause between them share a commit.
                var delay = ReplayPacing.DelayBetween(previous, step, pacer.Speed, replayOptions.CurrentValue.MaxGap);
                if (delay > TimeSpan.Zero || writer.Pending >= StepsPerGroup)
                {
                    await writer.FlushAsync(cancellationToken);
                }

                if (delay > TimeSpan.Zero)
                {
                    await pacer.WaitAsync(delay, cancellationToken);
                }

                writer.Add(step.Status, step.Data, step.Current, step.IncludePictures, isHuman: false, null, null);
                previous = step;
            }

            if (recording.Failure is { } failure)
            {
                writer.Add(RecorderStatus.Failed, JsonValue.Create(failure), null, false, isHuman: false, RecorderStatus.Failed, failure);
            }
            else
            {
                writer.Add(RecorderStatus.Finished, new JsonArray(), null, false, isHuman: false, RecorderStatus.Finished, "finished");
            }

            await pacer.HoldWhilePausedAsync(cancellationToken);
            await writer.FlushAsync(cancellationToken);
            Log.Finished(logger, claim.InteractionId, writer.LastSeq);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.Cancelled(logger, claim.InteractionId, writer.LastSeq);
        }
        catch (RunStoppedException)
        {
            Log.Stopped(logger, claim.InteractionId, writer.LastSeq);
        }
        catch (Exception exception) when (IsInfrastructure(exception))
        {
            // PostgreSQL (or the network) is down, not the recording: stop without a terminal raw. The lease runs
            // out and the run continues, here or elsewhere, from the last raw written.
            Log.Interrupted(logger, exception, claim.InteractionId, writer.LastSeq);
        }
        catch (Exception exception)
        {
            writer.Discard();
            await FailAsync(writer, claim.InteractionId, exception, cancellationToken);
        }
    }

    private static bool IsInfrastructure(Exception exception) => exception switch
    {
        NpgsqlException { IsTransient: true } => true, // includes a server starting up or shutting down
        PostgresException => false, // otherwise the server answered: the statement itself is at fault
        NpgsqlException or TimeoutException or System.Net.Sockets.SocketException => true,
        _ => exception.InnerException is { } inner && IsInfrastructure(inner),
    };

    private async Task FailAsync(Writer writer, string interactionId, Exception exception, CancellationToken cancellationToken)
    {
        var reason = exception switch
        {
            RecordingNotFoundException or RecordingFormatException or RecorderDirException => exception.Message,
            // An unexpected exception's text can name server paths or internals: the client gets an id to quote, the log the rest.
            _ => $"the replay failed unexpectedly (error {interactionId}-{writer.LastSeq + 1} in the hub's log).",
        };
        Log.Failed(logger, exception, interactionId, reason);
        try
        {
            writer.Add(RecorderStatus.Failed, JsonValue.Create(reason), null, false, isHuman: false, RecorderStatus.Failed, reason);
            await writer.FlushAsync(cancellationToken);
        }
        catch (RunStoppedException)
        {
            Log.Stopped(logger, interactionId, writer.LastSeq);
        }
        catch (Exception writeFailure) when (writeFailure is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // This instance claims the run again once the database answers (another one if the lease runs out first)
            // and it continues from the last raw written.
            Log.FailedRawNotWritten(logger, writeFailure, interactionId);
        }
    }

    /// <summary>Collects the raws of one run with consecutive seqs and hands them to the writer as one group.</summary>
    private sealed class Writer(RawAppender appender, string interactionId, string owner, long lastSeq)
    {
        private readonly List<RawAppend> _pending = [];

        /// <summary>The seq of the last raw committed.</summary>
        public long LastSeq { get; private set; } = lastSeq;

        public int Pending => _pending.Count;

        /// <summary>The recording's version, noted on the interaction with the next raws committed.</summary>
        public string? RecordingVersion { get; set; }

        public void Add(string status, JsonNode? data, string? current, bool includePictures, bool isHuman,
            string? interactionStatus, string? interactionMessage)
        {
            // Like the original, a raw whose data carries a node_id (inner steps) is stored under that id.
            var nodeId = data is JsonObject obj && obj["node_id"] is JsonValue id && id.TryGetValue(out string? text) && text.Length > 0
                ? text
                : Guid.NewGuid().ToString("N");
            _pending.Add(new RawAppend(interactionId, LastSeq + _pending.Count + 1, nodeId, status, current, data,
                isHuman, includePictures, interactionStatus, interactionMessage));
        }

        /// <summary>Forgets the raws not committed (before a <c>failed</c> raw takes their place).</summary>
        public void Discard() => _pending.Clear();

        /// <summary>Commits the collected raws; throws <see cref="RunStoppedException"/> when they are refused.</summary>
        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (_pending.Count == 0)
            {
                return;
            }

            var group = new RawAppendGroup(owner, [.. _pending], RecordingVersion);
            if (await appender.AppendAsync(group, cancellationToken) != AppendOutcome.Written)
            {
                throw new RunStoppedException();
            }

            LastSeq = group.LastSeq;
            RecordingVersion = null;
            _pending.Clear();
        }
    }

    /// <summary>The interaction is over or another instance owns the run: stop without writing.</summary>
    private sealed class RunStoppedException : Exception;

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Run {InteractionId} finished after seq {Seq}")]
        public static partial void Finished(ILogger logger, string interactionId, long seq);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "Run {InteractionId} cancelled after seq {Seq}")]
        public static partial void Cancelled(ILogger logger, string interactionId, long seq);

        [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Run {InteractionId} stopped after seq {Seq}: the interaction is over or its run moved to another instance")]
        public static partial void Stopped(ILogger logger, string interactionId, long seq);

        [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "Run {InteractionId} failed: {Reason}")]
        public static partial void Failed(ILogger logger, Exception exception, string interactionId, string reason);

        [LoggerMessage(EventId = 2105, Level = LogLevel.Error, Message = "Run {InteractionId}: the failed raw could not be written")]
        public static partial void FailedRawNotWritten(ILogger logger, Exception exception, string interactionId);

        [LoggerMessage(EventId = 2107, Level = LogLevel.Warning, Message = "Run {InteractionId} interrupted after seq {Seq} by an infrastructure failure; this instance claims it again once the database answers (another one if its lease runs out first)")]
        public static partial void Interrupted(ILogger logger, Exception exception, string interactionId, long seq);

        [LoggerMessage(EventId = 2106, Level = LogLevel.Information, Message = "Run {InteractionId} continues after step {Done} of {Total}")]
        public static partial void Continuing(ILogger logger, string interactionId, int done, int total);
    }
}
