namespace Recorder.Data.Raws;

/// <summary>
/// A position in one interaction's raws: the raws wanted are those with <c>seq &gt; AfterSeq</c>, at most
/// <c>Limit</c> of them (0: as many as the read allows).
/// </summary>
public readonly record struct RawCursor(string InteractionId, long AfterSeq, int Limit = 0);
