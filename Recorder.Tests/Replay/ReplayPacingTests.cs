using Recorder.Hub.Playback;
using Recorder.XAgent.Replay;

namespace Recorder.Tests.Replay;

public sealed class ReplayPacingTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static ReplayStep At(double seconds) => new("inner", null, "1.1", false, T0.AddSeconds(seconds));

    [Theory]
    [InlineData(1.0, 3.0, 10.0, 3.0)]   // original pacing
    [InlineData(2.0, 3.0, 10.0, 1.5)]   // twice as fast
    [InlineData(0.5, 3.0, 10.0, 6.0)]   // half speed
    [InlineData(1.0, 30.0, 2.0, 2.0)]   // a long gap is capped
    [InlineData(0.0, 3.0, 10.0, 0.0)]   // speed 0: no delays
    public void TheDelayIsTheRecordedGapScaledByTheSpeedAndCapped(double speed, double gap, double maxGap, double expected)
    {
        var options = new ReplayOptions { Speed = speed, MaxGap = TimeSpan.FromSeconds(maxGap) };
        Assert.Equal(TimeSpan.FromSeconds(expected), ReplayPacing.DelayBetween(At(10), At(10 + gap), options));
    }

    [Fact]
    public void UnknownOrBackwardTimesGiveNoDelay()
    {
        var options = new ReplayOptions { Speed = 1, MaxGap = TimeSpan.FromSeconds(5) };
        Assert.Equal(TimeSpan.Zero, ReplayPacing.DelayBetween(null, At(3), options));
        Assert.Equal(TimeSpan.Zero, ReplayPacing.DelayBetween(At(5), At(3), options));
        Assert.Equal(TimeSpan.Zero, ReplayPacing.DelayBetween(At(5), At(5) with { RecordedAt = null }, options));
    }
}
