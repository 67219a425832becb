using System.Collections.Concurrent;
using System.Threading.Channels;
using Recorder.Data.Raws;

namespace Recorder.Hub.Delivery;

/// <summary>
/// Sets <c>is_send</c> off the send path: writes report the highest seq written per interaction, and one update marks
/// whatever was reported while the previous one ran (no timer window: a lone report is marked at once).
/// </summary>
public sealed partial class SentMarks(RawRepository raws, ILogger<SentMarks> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, long> _pending = new(StringComparer.Ordinal);
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>The raws of the interaction up to <paramref name="seq"/> were written to a connection.</summary>
    public void Report(string interactionId, long seq)
    {
        _pending.AddOrUpdate(interactionId, seq, (_, known) => Math.Max(known, seq));
        _signal.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var _ in _signal.Reader.ReadAllAsync(stoppingToken))
        {
            List<(string InteractionId, long UpToSeq)> batch = [];
            foreach (var interactionId in _pending.Keys)
            {
                if (_pending.TryRemove(interactionId, out var seq))
                {
                    batch.Add((interactionId, seq));
                }
            }

            try
            {
                await raws.MarkSentAsync(batch, stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                Log.MarkFailed(logger, exception, batch.Count);
                foreach (var (interactionId, seq) in batch)
                {
                    Report(interactionId, seq);
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
