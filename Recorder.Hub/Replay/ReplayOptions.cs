using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub.Replay;

/// <summary>The <c>Recorder:Replay</c> section.</summary>
public sealed class ReplayOptions
{
    public const string Section = "Recorder:Replay";

    /// <summary>0 = no delays; 1 = the original pacing from the records' times; 2 = twice as fast, and so on.</summary>
    [Range(0.0, 1000.0, ErrorMessage = "Recorder:Replay:Speed must be between 0 (no delays) and 1000.")]
    public double Speed { get; set; } = 1;

    /// <summary>The longest pause between two steps, whatever the original gap was.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Recorder:Replay:MaxGap must be between 00:00:00 and 01:00:00.")]
    public TimeSpan MaxGap { get; set; } = TimeSpan.FromSeconds(2);
}
