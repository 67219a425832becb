using System.Diagnostics;
using Recorder.Data.Interactions;

namespace Recorder.Hub.Playback;

/// <summary>
/// The clock of one run: when its next step is due at the speed its viewer wants, and whether it is paused. Each step
/// is due at the previous due time plus its pause (not after the previous commit), so commit time does not stretch a
/// run. A change of speed rescales what is left of the pause being waited from now; a pause holds the rest of it until
/// play. Changes are read from the interaction row when <see cref="PlaybackSignals"/> wakes the run (and, while
/// paused, every <see cref="PausedPoll"/> in case a notification was missed).
/// </summary>
internal sealed class RunPacer(string interactionId, InteractionRepository interactions, PlaybackSignals.Registration signal, double defaultSpeed)
{
    private static readonly TimeSpan PausedPoll = TimeSpan.FromSeconds(1);

    private long _due = Stopwatch.GetTimestamp();
    private TimeSpan _held;
    private long _version;

    /// <summary>The speed the next pauses are computed at (0: none).</summary>
    public double Speed { get; private set; }

    public bool Paused { get; private set; }

    /// <summary>
    /// Starts from the state the run was claimed with; a change since then has signalled the run (see
    /// <see cref="PlaybackSignals"/>) and is read before the first step.
    /// </summary>
    public void Start(RunClaim claim) =>
        Apply(new PlaybackState { ReplaySpeed = claim.ReplaySpeed, Paused = claim.Paused, ControlVersion = claim.ControlVersion }, force: true);

    /// <summary>Waits while the run is paused (before any raw is committed).</summary>
    public async Task HoldWhilePausedAsync(CancellationToken cancellationToken)
    {
        if (signal.Reader.TryRead(out _))
        {
            await RefreshAsync(cancellationToken); // a change came while the run did not wait (speed 0, a commit)
        }

        while (Paused)
        {
            await WaitForChangeAsync(PausedPoll, refreshOnTimeout: true, cancellationToken);
        }
    }

    /// <summary>The next step comes <paramref name="delay"/> after the previous one; waits until it is due (and not paused).</summary>
    public async Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        _due += (long)(delay.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (Paused)
            {
                await WaitForChangeAsync(PausedPoll, refreshOnTimeout: true, cancellationToken);
                continue;
            }

            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _due);
            if (wait <= TimeSpan.Zero)
            {
                return;
            }

            await WaitForChangeAsync(wait, refreshOnTimeout: false, cancellationToken);
        }
    }

    private async Task WaitForChangeAsync(TimeSpan timeout, bool refreshOnTimeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            await signal.Reader.ReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (!refreshOnTimeout)
            {
                return; // due
            }
        }

        await RefreshAsync(cancellationToken);
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (await interactions.ReadPlaybackAsync(interactionId, cancellationToken) is { } state)
        {
            Apply(state, force: false);
        }
    }

    private void Apply(PlaybackState state, bool force)
    {
        if (!force && state.ControlVersion <= _version)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        var remaining = Paused ? _held : Max(Stopwatch.GetElapsedTime(now, _due), TimeSpan.Zero);
        var speed = state.ReplaySpeed ?? defaultSpeed;
        if (speed != Speed && Speed > 0)
        {
            remaining = speed > 0 ? remaining * (Speed / speed) : TimeSpan.Zero;
        }

        // A due time in the past is never caught up in a burst after a change: the rest starts from now.
        _held = remaining;
        _due = now + (long)(remaining.TotalSeconds * Stopwatch.Frequency);
        Speed = speed;
        Paused = state.Paused;
        _version = state.ControlVersion;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
