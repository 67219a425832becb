using Recorder.Hub.Playback;

namespace Recorder.Tests.Replay;

/// <summary>The one rule for a speed a client chooses, with 0 allowed or not.</summary>
public sealed class PlaybackSpeedTests
{
    private static readonly ReplayOptions Allowing = new() { MinSpeed = 0.5, MaxSpeed = 4, AllowZeroSpeed = true };
    private static readonly ReplayOptions Refusing = new() { MinSpeed = 0.5, MaxSpeed = 4, AllowZeroSpeed = false };

    [Theory]
    [InlineData(0.5)]
    [InlineData(1)]
    [InlineData(4)]
    public void ASpeedWithinTheBoundsIsAllowedEitherWay(double speed)
    {
        Assert.Null(PlaybackSpeed.Check(speed, Allowing));
        Assert.Null(PlaybackSpeed.Check(speed, Refusing));
    }

    [Fact]
    public void ZeroIsAllowedOnlyWhenTheOptionSaysSo()
    {
        Assert.Null(PlaybackSpeed.Check(0, Allowing));
        Assert.Equal("speed 0 (as fast as possible) is not allowed here; choose between 0.5 and 4.", PlaybackSpeed.Check(0, Refusing));
        Assert.Equal("speed must be between 0.5 and 4.", PlaybackSpeed.Check(5, Refusing));
        Assert.Equal("speed must be between 0.5 and 4, or 0 (as fast as possible).", PlaybackSpeed.Check(0.25, Allowing));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void NotAFiniteNumberIsRefused(double speed) =>
        Assert.Equal("speed must be a finite number.", PlaybackSpeed.Check(speed, Allowing));

    [Fact]
    public void TheConnectTextIsReadInvariantlyAndAbsentMeansTheServersSetting()
    {
        Assert.Null(PlaybackSpeed.Parse(null, Allowing, out var none));
        Assert.Null(none);
        Assert.Equal(2.5, PlaybackSpeed.Parse("2.5", Allowing, out var ok));
        Assert.Null(ok);
        Assert.Null(PlaybackSpeed.Parse("2,5", Allowing, out var comma));
        Assert.Equal("speed must be a number, e.g. 0.5, 1 or 2.", comma);
    }
}
