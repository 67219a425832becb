using Recorder.XAgent.Replay;

namespace Recorder.Hub.Playback;

/// <summary>How long to wait before a step, from the gap between the records' times.</summary>
public static class ReplayPacing
{
    public static TimeSpan DelayBetween(ReplayStep? previous, ReplayStep next, ReplayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return DelayBetween(previous, next, options.Speed, options.MaxGap);
    }

    /// <summary>The same at <paramref name="speed"/> (the run's own, chosen by its viewer).</summary>
    public static TimeSpan DelayBetween(ReplayStep? previous, ReplayStep next, double speed, TimeSpan maxGap)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (speed <= 0 || previous?.RecordedAt is not { } from || next.RecordedAt is not { } to || to <= from)
        {
            return TimeSpan.Zero;
        }

        var scaled = (to - from) / speed;
        return scaled < maxGap ? scaled : maxGap;
    }
}
