namespace Recorder.Hub.Replay;

/// <summary>How long to wait before a step, from the gap between the records' times.</summary>
public static class ReplayPacing
{
    public static TimeSpan DelayBetween(ReplayStep? previous, ReplayStep next, ReplayOptions options)
    {
        if (options.Speed <= 0 || previous?.RecordedAt is not { } from || next.RecordedAt is not { } to || to <= from)
        {
            return TimeSpan.Zero;
        }

        var scaled = (to - from) / options.Speed;
        return scaled < options.MaxGap ? scaled : options.MaxGap;
    }
}
