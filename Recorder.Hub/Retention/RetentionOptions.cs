using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub.Retention;

/// <summary>The <c>Recorder:Retention</c> section: automatic pruning, off unless <see cref="MaxAge"/> is set.</summary>
public sealed class RetentionOptions : IValidatableObject
{
    public const string Section = "Recorder:Retention";

    /// <summary>
    /// Interactions finished (or failed, or closed) and unchanged for longer than this are deleted with their raws and
    /// unreferenced workspace files, as by <c>interactions prune --older-than</c>: <c>30d</c>, <c>12h</c>, <c>90m</c>.
    /// Empty (the default) = never.
    /// </summary>
    public string? MaxAge { get; set; }

    /// <summary>How often an instance prunes (one instance at a time, under a PostgreSQL advisory lock).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00", ErrorMessage = "Recorder:Retention:Interval must be between 00:00:01 and 7.00:00:00.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Interactions (and unreferenced contents) deleted per transaction.</summary>
    [Range(1, InteractionPruner.MaxBatchSize, ErrorMessage = "Recorder:Retention:BatchSize must be between 1 and 10000.")]
    public int BatchSize { get; set; } = InteractionPruner.DefaultBatchSize;

    /// <summary>The parsed <see cref="MaxAge"/>; null when retention is off.</summary>
    public TimeSpan? Age => string.IsNullOrWhiteSpace(MaxAge) ? null : RetentionAge.TryParse(MaxAge, out var age, out _) ? age : null;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(MaxAge) && !RetentionAge.TryParse(MaxAge, out _, out var error))
        {
            yield return new ValidationResult($"Recorder:Retention:MaxAge: {error} (empty turns retention off)", [nameof(MaxAge)]);
        }
    }
}
