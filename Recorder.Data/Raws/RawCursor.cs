namespace Recorder.Data.Raws;

/// <summary>A position in one interaction's raws: the raws wanted are those with <c>seq &gt; AfterSeq</c>.</summary>
public readonly record struct RawCursor(string InteractionId, long AfterSeq);
