using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Recorder.Data.Interactions;
using Recorder.Hub.Metrics;

namespace Recorder.Hub.Runs;

/// <summary>
/// Owns every run of this instance: takes the lease of a run requested through it when it has room, claims requested
/// runs (and runs whose owner died) under a lease in PostgreSQL, executes them with bounded concurrency and a CancellationToken each, and renews their leases (a run
/// whose lease is lost, or whose interaction was closed, is cancelled).
/// </summary>
public sealed partial class RunScheduler(
    InteractionRepository interactions,
    RunExecutor executor,
    InstanceIdentity instance,
    RecorderMetrics metrics,
    IOptions<RunOptions> options,
    ILogger<RunScheduler> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, ActiveRun> _runs = new(StringComparer.Ordinal);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly RunOptions _options = options.Value;
    private DateTimeOffset _nextRenewal = DateTimeOffset.MinValue;
    private CancellationToken _stopping; // the scheduler's, once it runs
    private int _reserved; // slots held by requests that may take a lease at once

    /// <summary>The runs this instance is executing now.</summary>
    public int ActiveRuns => _runs.Count;

    /// <summary>
    /// Starts the interaction's run: here when this instance has room (the request takes the lease at once), else
    /// anywhere in the cluster (the scheduler that claims it first). A second request is a no-op.
    /// </summary>
    public async Task RequestAsync(string interactionId, CancellationToken cancellationToken)
    {
        var reserved = TryReserve(out var stoppingToken);
        try
        {
            // With a slot, not the caller's token: a lease taken must become a run here, even if the caller has gone.
            var outcome = reserved
                ? await interactions.RequestRunAsync(interactionId, instance.Id, _options.Lease, stoppingToken)
                : new RunRequestOutcome(await interactions.RequestRunAsync(interactionId, cancellationToken), null);
            if (!outcome.Requested)
            {
                return;
            }

            Log.Requested(logger, interactionId);
            if (outcome.Claim is { } claim)
            {
                Start(claim, stoppingToken);
            }
            else
            {
                _wake.Writer.TryWrite(true);
            }
        }
        finally
        {
            if (reserved)
            {
                Interlocked.Decrement(ref _reserved);
            }
        }
    }

    /// <summary>A slot for a run this instance may take on a request; false when it has none or is not running.</summary>
    private bool TryReserve(out CancellationToken stoppingToken)
    {
        stoppingToken = _stopping;
        if (!stoppingToken.CanBeCanceled || stoppingToken.IsCancellationRequested)
        {
            return false;
        }

        if (_runs.Count + Interlocked.Increment(ref _reserved) <= _options.MaxConcurrentRuns)
        {
            return true;
        }

        Interlocked.Decrement(ref _reserved);
        return false;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var step in new Func<CancellationToken, Task>[] { RenewAsync, ClaimAsync })
            {
                try
                {
                    await step(stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    Log.LoopFailed(logger, exception);
                }
            }

            try
            {
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                tick.CancelAfter(_options.PollInterval);
                await _wake.Reader.ReadAsync(tick.Token);
            }
            catch (OperationCanceledException)
            {
                // the poll interval passed, or the scheduler is stopping (the loop ends)
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Taken first: stopping the loop cancels the runs (their tokens are linked to it), and a run that ends
        // removes itself, so a list taken afterwards could miss runs whose leases must be released.
        var before = _runs.ToArray();
        await base.StopAsync(cancellationToken);
        var stopping = before.Concat(_runs.ToArray()).DistinctBy(r => r.Key, StringComparer.Ordinal).ToArray();
        foreach (var (interactionId, _) in stopping)
        {
            await CancelAsync(interactionId);
        }

        await Task.WhenAll(stopping.Select(r => r.Value.Task)).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var (interactionId, _) in stopping)
        {
            await interactions.ReleaseRunAsync(instance.Id, interactionId, cancellationToken);
        }
    }

    private async Task ClaimAsync(CancellationToken stoppingToken)
    {
        var free = _options.MaxConcurrentRuns - _runs.Count - Volatile.Read(ref _reserved);
        if (free <= 0)
        {
            return;
        }

        // The runs executing now are named, so that one this instance still holds but stopped (an outage interrupted
        // it) is claimed again at once; one that ends meanwhile is named too and is picked up by the next pass.
        var claims = await interactions.ClaimRunsAsync(instance.Id, _options.Lease, free, [.. _runs.Keys], stoppingToken);
        foreach (var claim in claims)
        {
            Start(claim, stoppingToken);
        }
    }

    /// <summary>Executes a run whose lease this instance has just taken.</summary>
    private void Start(RunClaim claim, CancellationToken stoppingToken)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var run = new ActiveRun(cancellation);
        if (!_runs.TryAdd(claim.InteractionId, run))
        {
            cancellation.Dispose();
            return;
        }

        Log.Claimed(logger, claim.InteractionId, claim.LastSeq);
        if (claim.LastSeq > 0)
        {
            metrics.TakenOver();
        }

        // A run belongs to the scheduler, not to the hub call that may have requested it (its activity, its context).
        using (ExecutionContext.SuppressFlow())
        {
            run.Task = Task.Run(async () =>
            {
                using var activity = RecorderMetrics.Activities.StartActivity("run");
                activity?.SetTag("recorder.interaction_id", claim.InteractionId);
                activity?.SetTag("recorder.after_seq", claim.LastSeq);
                try
                {
                    await executor.RunAsync(claim, cancellation.Token);
                }
                finally
                {
                    _runs.TryRemove(claim.InteractionId, out _);
                    cancellation.Dispose();
                    _wake.Writer.TryWrite(true);
                }
            }, CancellationToken.None);
        }
    }

    private async Task RenewAsync(CancellationToken stoppingToken)
    {
        var now = DateTimeOffset.UtcNow;
        if (now < _nextRenewal)
        {
            return;
        }

        var owned = _runs.Keys.ToList();
        if (owned.Count > 0)
        {
            var kept = (await interactions.RenewLeasesAsync(instance.Id, owned, _options.Lease, stoppingToken)).ToHashSet(StringComparer.Ordinal);
            foreach (var lost in owned.Where(id => !kept.Contains(id) && _runs.ContainsKey(id)))
            {
                Log.LeaseLost(logger, lost);
                await CancelAsync(lost);
            }
        }

        _nextRenewal = now + _options.Lease / 3;
    }

    /// <summary>Cancels the interaction's run if it runs here (its interaction was closed).</summary>
    public async Task CancelAsync(string interactionId)
    {
        if (_runs.TryGetValue(interactionId, out var run))
        {
            try
            {
                await run.Cancellation.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // the run ended meanwhile
            }
        }
    }

    private sealed class ActiveRun(CancellationTokenSource cancellation)
    {
        public CancellationTokenSource Cancellation { get; } = cancellation;
        public Task Task { get; set; } = Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Run of {InteractionId} requested")]
        public static partial void Requested(ILogger logger, string interactionId);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Run of {InteractionId} claimed (last seq {LastSeq})")]
        public static partial void Claimed(ILogger logger, string interactionId, long lastSeq);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Run of {InteractionId} lost its lease; cancelling it here")]
        public static partial void LeaseLost(ILogger logger, string interactionId);

        [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "Run scheduler pass failed; retrying at the next tick")]
        public static partial void LoopFailed(ILogger logger, Exception exception);
    }
}
