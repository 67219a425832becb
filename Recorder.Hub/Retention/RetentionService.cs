using Microsoft.Extensions.Options;
using Recorder.Data.Interactions;

namespace Recorder.Hub.Retention;

/// <summary>
/// Prunes every <see cref="RetentionOptions.Interval"/> when <see cref="RetentionOptions.MaxAge"/> is set: the first
/// instance to take the prune lock does it, the others skip that round.
/// </summary>
public sealed partial class RetentionService(
    InteractionPruner pruner,
    InteractionRepository interactions,
    IOptions<RetentionOptions> options,
    ILogger<RetentionService> logger) : BackgroundService
{
    private readonly RetentionOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.Age is not { } maxAge)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.Interval);
        do
        {
            try
            {
                var report = await RunOnceAsync(maxAge, stoppingToken);
                if (report is null)
                {
                    Log.Skipped(logger);
                }
                else if (report.Interactions > 0 || report.Contents > 0)
                {
                    Log.Pruned(logger, _options.MaxAge!, report.Describe());
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                Log.Failed(logger, exception);
            }
        }
        while (await Ticks.NextAsync(timer, stoppingToken));
    }

    /// <summary>One prune under the lock; null when another instance holds it.</summary>
    public async Task<PruneReport?> RunOnceAsync(TimeSpan maxAge, CancellationToken cancellationToken)
    {
        PruneReport? report = null;
        var ran = await interactions.TryWithPruneLockAsync(
            async ct => report = await pruner.PruneAsync(maxAge, _options.BatchSize, ct), cancellationToken);
        return ran ? report : null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6501, EventName = "RetentionPruned", Level = LogLevel.Information, Message = "Retention (older than {MaxAge}): {Report}")]
        public static partial void Pruned(ILogger logger, string maxAge, string report);

        [LoggerMessage(EventId = 6502, EventName = "RetentionSkipped", Level = LogLevel.Debug, Message = "Retention: another instance is pruning; skipped this round")]
        public static partial void Skipped(ILogger logger);

        [LoggerMessage(EventId = 6503, EventName = "RetentionFailed", Level = LogLevel.Error, Message = "Retention prune failed; retrying at the next interval")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
