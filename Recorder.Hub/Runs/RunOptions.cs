using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub.Runs;

/// <summary>The <c>Recorder:Runs</c> section.</summary>
public sealed class RunOptions : IValidatableObject
{
    public const string Section = "Recorder:Runs";

    /// <summary>How long an interaction may have no connection before its run is cancelled and it is closed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Recorder:Runs:DisconnectGrace must be between 00:00:01 and 1.00:00:00.")]
    public TimeSpan DisconnectGrace { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Runs this instance executes at once; further runs wait for a slot. 0 = this instance runs none (hub and pusher only).</summary>
    [Range(0, 10_000, ErrorMessage = "Recorder:Runs:MaxConcurrentRuns must be between 0 (run nothing here) and 10000.")]
    public int MaxConcurrentRuns { get; set; } = 64;

    /// <summary>How long a run's lease lasts without renewal; another instance takes over a run whose lease ran out.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Recorder:Runs:Lease must be between 00:00:01 and 00:10:00.")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the scheduler looks for runs to take over, leases to renew and interactions left alone.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Recorder:Runs:PollInterval must be between 00:00:00.050 and 00:01:00.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Leases are renewed and heartbeats written every Lease/3 at the poll's pace: a slower poll lets them lapse.
        if (PollInterval > Lease / 3)
        {
            yield return new ValidationResult(
                $"Recorder:Runs:PollInterval ({PollInterval}) must be at most a third of Recorder:Runs:Lease ({Lease}).",
                [nameof(PollInterval), nameof(Lease)]);
        }
    }
}
