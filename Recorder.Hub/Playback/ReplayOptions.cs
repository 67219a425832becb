using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub.Playback;

/// <summary>The <c>Recorder:Replay</c> section.</summary>
public sealed class ReplayOptions : IValidatableObject
{
    public const string Section = "Recorder:Replay";

    /// <summary>0 = no delays; 1 = the original pacing from the records' times; 2 = twice as fast, and so on.</summary>
    [Range(0.0, 1000.0, ErrorMessage = "Recorder:Replay:Speed must be between 0 (no delays) and 1000.")]
    public double Speed { get; set; } = 1;

    /// <summary>The longest pause between two steps, whatever the original gap was.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Recorder:Replay:MaxGap must be between 00:00:00 and 01:00:00.")]
    public TimeSpan MaxGap { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The slowest speed a client may choose (the connect's <c>speed</c>, <c>SetSpeed</c>).</summary>
    [Range(0.001, 1000.0, ErrorMessage = "Recorder:Replay:MinSpeed must be between 0.001 and 1000.")]
    public double MinSpeed { get; set; } = 0.1;

    /// <summary>The fastest speed a client may choose, 0 aside.</summary>
    [Range(0.001, 1000.0, ErrorMessage = "Recorder:Replay:MaxSpeed must be between 0.001 and 1000.")]
    public double MaxSpeed { get; set; } = 100;

    /// <summary>Whether a client may choose speed 0 (no delays, as fast as possible). <c>SkipToEnd</c> is allowed either way.</summary>
    public bool AllowZeroSpeed { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MinSpeed > MaxSpeed)
        {
            yield return new ValidationResult(
                $"Recorder:Replay:MinSpeed ({MinSpeed}) must not be above Recorder:Replay:MaxSpeed ({MaxSpeed}).",
                [nameof(MinSpeed), nameof(MaxSpeed)]);
        }
    }
}
