using System.Collections.Concurrent;
using System.Threading.Channels;
using Recorder.Data.Raws;

namespace Recorder.Hub.Delivery;

/// <summary>
/// Sets <c>is_send</c> off the send path: writes report the seqs of raws written that were not marked yet (their range
/// per interaction is kept), and one update marks whatever was reported while the previous one ran (no timer window:
/// a lone report is marked at once).
/// </summary>
public sealed partial class SentMarks(RawRepository raws, ILogger<SentMarks> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, (long From, long UpTo)> _pending = new(StringComparer.Ordinal);
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>The raw <paramref name="seq"/> of the interaction, read unsent, was written to a connection.</summary>
    public void Report(string interactionId, long seq) => Report(interactionId, seq, seq);

    private void Report(string interactionId, long from, long upTo)
    {
        _pending.AddOrUpdate(interactionId, (from, upTo), (_, known) => (Math.Min(known.From, from), Math.Max(known.UpTo, upTo)));
        _signal.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var _ in _signal.Reader.ReadAllAsync(stoppingToken))
        {
            List<(string InteractionId, long FromSeq, long UpToSeq)> batch = [];
            foreach (var interactionId in _pending.Keys)
            {
                if (_pending.TryRemove(interactionId, out var range))
                {
                    batch.Add((interactionId, range.From, range.UpTo));
                }
            }

            try
            {
                await raws.MarkSentAsync(batch, stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                Log.MarkFailed(logger, exception, batch.Count);
                foreach (var (interactionId, from, upTo) in batch)
                {
                    Report(interactionId, from, upTo);
                }

                await Task.Delay(RetryDelay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Marking the raws of {Count} interactions sent failed; retrying")]
        public static partial void MarkFailed(ILogger logger, Exception exception, int count);
    }
}
