namespace Recorder.Data.Raws;

/// <summary>
/// Consecutive raws of one interaction that one run owner wants committed together: all of them or none. A group
/// commit writes many groups of many interactions in one statement, each group fenced on its own.
/// </summary>
/// <param name="Owner">The instance that must still own the interaction's run.</param>
/// <param name="Raws">Raws of one interaction with consecutive seqs, in seq order; at least one.</param>
/// <param name="RecordingVersion">
/// The version of the recording the run replays, noted on the interaction with its first raws (a takeover must find the
/// same one); an interaction keeps the first version noted.
/// </param>
public sealed record RawAppendGroup(string Owner, IReadOnlyList<RawAppend> Raws, string? RecordingVersion = null)
{
    public string InteractionId => Raws[0].InteractionId;

    public long FirstSeq => Raws[0].Seq;

    public long LastSeq => Raws[^1].Seq;
}
