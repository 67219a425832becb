namespace Recorder.Data.Workspace;

/// <summary>Workspace contents deleted because no file named them any more: how many, and their bytes.</summary>
public sealed record ContentsDeleted(int Count, long Bytes);
