namespace Recorder.Data.Interactions;

/// <summary>How far an interaction's raws go and whether it is still live.</summary>
public sealed class InteractionState
{
    public required string InteractionId { get; init; }
    public long LastSeq { get; init; }
    public required string Status { get; init; }
    public double? ReplaySpeed { get; init; }
    public bool Paused { get; init; }
    public long ControlVersion { get; init; }
}
