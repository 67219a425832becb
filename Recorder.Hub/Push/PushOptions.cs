using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub.Push;

/// <summary>The <c>Recorder:Push</c> section.</summary>
public sealed class PushOptions
{
    public const string Section = "Recorder:Push";

    /// <summary>The safety-net sweep for raws whose notification was missed; delivery itself is woken by LISTEN/NOTIFY.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Recorder:Push:SweepInterval must be between 00:00:00.050 and 00:01:00.")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Raws pushed per transaction.</summary>
    [Range(1, 10_000, ErrorMessage = "Recorder:Push:BatchSize must be between 1 and 10000.")]
    public int BatchSize { get; set; } = 256;

    /// <summary>Interactions pushed in parallel (each one always by a single task, in seq order).</summary>
    [Range(1, 64, ErrorMessage = "Recorder:Push:Workers must be between 1 and 64 (each push holds a pooled connection and may need another).")]
    public int Workers { get; set; } = 32;
}
