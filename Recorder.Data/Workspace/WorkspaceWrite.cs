namespace Recorder.Data.Workspace;

/// <summary>What one store of a workspace sent: its files, and the contents (with their bytes) that were not stored yet.</summary>
public sealed record WorkspaceWrite(int Files, int ContentsSent, long BytesSent);
