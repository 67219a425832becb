using Microsoft.Extensions.Options;
using Recorder.Data.Interactions;
using Recorder.Hub.Runs;

namespace Recorder.Hub.Presence;

/// <summary>
/// Who is connected where, across instances: this instance's heartbeat, the reconciliation of its rows of
/// <c>hub_connections</c> with the connections it really holds, the pruning of instances that stopped heartbeating,
/// and the reaper that closes interactions left without a connection for longer than the disconnect grace (each close
/// notifies every instance's delivery, whose attached clients get the closed notice, and cancels the run here).
/// </summary>
public sealed partial class PresenceService(
    InteractionRepository interactions,
    InstanceIdentity instance,
    LocalConnections local,
    RunScheduler runs,
    IOptions<RunOptions> options,
    ILogger<PresenceService> logger) : BackgroundService
{
    /// <summary>How often the connections are reconciled when nothing says they need it (a safety net).</summary>
    private static readonly TimeSpan ReconcileAnyway = TimeSpan.FromMinutes(1);

    private readonly RunOptions _options = options.Value;
    private DateTimeOffset _nextPrune = DateTimeOffset.MinValue;
    private DateTimeOffset _nextReconcile = DateTimeOffset.MinValue;
    private volatile bool _reconcileWanted = true;
    // Since when this instance has reached PostgreSQL without a break (from the start: no break yet).
    private DateTimeOffset? _healthySince = DateTimeOffset.MinValue;

    /// <summary>An instance whose heartbeat is older than this is dead: its connections no longer count.</summary>
    private TimeSpan InstanceTimeout => _options.Lease * 3;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the server accepts connections: they are recorded against this instance.
        await interactions.HeartbeatAsync(instance.Id, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.PollInterval);
        do
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                Log.TickFailed(logger, exception);
            }
        }
        while (await Ticks.NextAsync(timer, stoppingToken));
    }

    /// <summary>The rows of this instance's connections may be wrong (a detach failed): reconcile them at the next tick.</summary>
    public void RequestReconcile() => _reconcileWanted = true;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await interactions.RemoveInstanceAsync(instance.Id, cancellationToken);
    }

    private async Task TickAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Fresh before anything else: peers must never see this instance's connections as dead.
            if (await interactions.HeartbeatAsync(instance.Id, stoppingToken))
            {
                // The row had to be created: this instance is new, or a peer pruned it and its connections with it.
                _reconcileWanted = true;
            }
        }
        catch
        {
            _healthySince = null;
            throw;
        }

        var now = DateTimeOffset.UtcNow;
        _healthySince ??= now;

        // The rows of this instance's connections are right by construction (each attach inserts one, each detach
        // deletes it): all of them are sent again only when something says they may be wrong, and once a minute.
        if (_reconcileWanted || now >= _nextReconcile)
        {
            _reconcileWanted = false;
            try
            {
                await interactions.ReconcileConnectionsAsync(instance.Id, local.Attachments(), stoppingToken);
            }
            catch
            {
                _reconcileWanted = true;
                throw;
            }

            _nextReconcile = now + ReconcileAnyway;
        }

        // Judging others needs a view of them: after an outage every live instance must have had the time to
        // heartbeat again, or this one would prune and close their connected interactions.
        var judge = now - _healthySince >= InstanceTimeout;
        if (judge && now >= _nextPrune)
        {
            await interactions.PruneDeadInstancesAsync(InstanceTimeout, stoppingToken);
            _nextPrune = now + _options.Lease / 3;
        }

        if (!judge)
        {
            return;
        }

        foreach (var closed in await interactions.CloseAbandonedAsync(instance.Id, _options.DisconnectGrace, InstanceTimeout, stoppingToken))
        {
            Log.Closed(logger, closed, _options.DisconnectGrace);
            await runs.CancelAsync(closed);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Interaction {InteractionId} closed: no connection for longer than {Grace}")]
        public static partial void Closed(ILogger logger, string interactionId, TimeSpan grace);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Presence tick failed; retrying at the next one")]
        public static partial void TickFailed(ILogger logger, Exception exception);
    }
}
