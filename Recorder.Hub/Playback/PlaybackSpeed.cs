using System.Globalization;

namespace Recorder.Hub.Playback;

/// <summary>The one rule for a speed a client chooses (connect query, <c>SetSpeed</c>, the socket's speed frame).</summary>
public static class PlaybackSpeed
{
    /// <summary>Why <paramref name="speed"/> is not allowed, or null when it is.</summary>
    public static string? Check(double speed, ReplayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (double.IsNaN(speed) || double.IsInfinity(speed))
        {
            return "speed must be a finite number.";
        }

        if (speed == 0)
        {
            return options.AllowZeroSpeed ? null : $"speed 0 (as fast as possible) is not allowed here; choose between {Format(options.MinSpeed)} and {Format(options.MaxSpeed)}.";
        }

        return speed < options.MinSpeed || speed > options.MaxSpeed
            ? $"speed must be between {Format(options.MinSpeed)} and {Format(options.MaxSpeed)}{(options.AllowZeroSpeed ? ", or 0 (as fast as possible)" : "")}."
            : null;
    }

    /// <summary>
    /// The connect's <c>speed</c> text: null (absent: the server's setting) or a number allowed by <see cref="Check"/>;
    /// otherwise the refusal in <paramref name="refusal"/>.
    /// </summary>
    public static double? Parse(string? text, ReplayOptions options, out string? refusal)
    {
        refusal = null;
        if (text is null)
        {
            return null;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var speed))
        {
            refusal = "speed must be a number, e.g. 0.5, 1 or 2.";
            return null;
        }

        refusal = Check(speed, options);
        return refusal is null ? speed : null;
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
