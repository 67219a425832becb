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

    /// <summary>The playback wanted when the run was claimed (a takeover keeps a paused run paused).</summary>
    public double? ReplaySpeed { get; init; }

    public bool Paused { get; init; }

    public long ControlVersion { get; init; }
}
