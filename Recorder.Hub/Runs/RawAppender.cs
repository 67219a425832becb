using System.Threading.Channels;
using Recorder.Data.Raws;
using Recorder.Hub.Metrics;

namespace Recorder.Hub.Runs;

/// <summary>
/// The one writer of this instance's raws: the runs hand it groups of raws, and it commits whatever is queued
/// whenever it is free, many groups of many interactions in one statement (a group commit). There is no timer
/// window: a lone raw commits at once, and a crowd shares commits. Each group is fenced on its own, so a group that
/// is refused (its interaction closed, its lease lost) fails only its own run.
/// </summary>
public sealed partial class RawAppender(RawRepository raws, RecorderMetrics metrics, ILogger<RawAppender> logger) : BackgroundService
{
    /// <summary>Raws per statement at most; what is left waits for the next one.</summary>
    private const int MaxRawsPerCommit = 4096;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Commits the group (all of it or nothing); completes once it is committed or refused.</summary>
    public async Task<AppendOutcome> AppendAsync(RawAppendGroup group, CancellationToken cancellationToken)
    {
        var pending = new Pending(group, new TaskCompletionSource<AppendOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new OperationCanceledException("The raw writer has stopped.");
        }

        return await pending.Done.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A second group of an interaction already in the batch waits for the next one: one group per interaction
        // per statement keeps its seqs in order.
        var deferred = new Queue<Pending>();
        var batch = new List<Pending>();
        var interactions = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            while (deferred.Count > 0 || await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                interactions.Clear();
                var raws = 0;
                var retry = new Queue<Pending>();
                while (raws < MaxRawsPerCommit && (deferred.TryDequeue(out var next) || _queue.Reader.TryRead(out next)))
                {
                    if (interactions.Add(next.Group.InteractionId))
                    {
                        batch.Add(next);
                        raws += next.Group.Raws.Count;
                    }
                    else
                    {
                        retry.Enqueue(next);
                    }
                }

                while (deferred.TryDequeue(out var left))
                {
                    retry.Enqueue(left);
                }

                deferred = retry;
                await CommitAsync(batch, stoppingToken);
            }
        }
        finally
        {
            _queue.Writer.TryComplete();
            foreach (var pending in deferred.Concat(Drain()))
            {
                pending.Done.TrySetCanceled(stoppingToken);
            }
        }
    }

    private async Task CommitAsync(List<Pending> batch, CancellationToken stoppingToken)
    {
        try
        {
            var outcomes = await raws.AppendAsync([.. batch.Select(p => p.Group)], stoppingToken);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(outcomes[i]);
                if (outcomes[i] == AppendOutcome.Written)
                {
                    metrics.Appended(batch[i].Group.Raws.Count);
                }
                else
                {
                    metrics.AppendFailed(batch[i].Group.Raws.Count, refused: true);
                }
            }

            Log.Committed(logger, batch.Count, batch.Sum(p => p.Group.Raws.Count));
        }
        catch (Exception exception)
        {
            // Each run decides what the failure means for it (an outage interrupts it; it continues later).
            foreach (var pending in batch)
            {
                metrics.AppendFailed(pending.Group.Raws.Count, refused: false);
                pending.Done.TrySetException(exception);
            }
        }
    }

    private IEnumerable<Pending> Drain()
    {
        while (_queue.Reader.TryRead(out var pending))
        {
            yield return pending;
        }
    }

    private sealed record Pending(RawAppendGroup Group, TaskCompletionSource<AppendOutcome> Done);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2201, Level = LogLevel.Debug, Message = "Committed {Groups} groups, {Raws} raws")]
        public static partial void Committed(ILogger logger, int groups, int raws);
    }
}
