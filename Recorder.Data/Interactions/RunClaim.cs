namespace Recorder.Data.Interactions;

/// <summary>A run this instance now holds the lease of.</summary>
public sealed class RunClaim
{
    public required string InteractionId { get; init; }
    public required string UserId { get; init; }
    public string? RecorderDir { get; init; }
    public long LastSeq { get; init; }

    /// <summary>The version of the recording the run began with (null before its first raw): a takeover must find the same one.</summary>
    public string? RecordingVersion { get; init; }
}
