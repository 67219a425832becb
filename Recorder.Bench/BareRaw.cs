namespace Recorder.Bench;

/// <summary>A raw row as the bare PostgreSQL baseline re-inserts it: the columns Recorder's append writes.</summary>
internal sealed record BareRaw(
    string InteractionId, long Seq, string NodeId, string? Current, string? Data, string Status, bool IsHuman, bool IncludePictures);
