using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub.Health;

/// <summary>The <c>Recorder:Health</c> section.</summary>
public sealed class HealthOptions
{
    public const string Section = "Recorder:Health";

    /// <summary>
    /// How often the readiness checks run in the background; new hub connections are refused while the last run
    /// found the instance not ready. <c>/health/ready</c> always runs them afresh.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Recorder:Health:ReadinessPeriod must be between 00:00:01 and 00:10:00.")]
    public TimeSpan ReadinessPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one check (PostgreSQL, Redis) may take before it counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Recorder:Health:CheckTimeout must be between 00:00:00.100 and 00:01:00.")]
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(3);
}
