namespace Recorder.XAgent;

/// <summary>A file of a recording's workspace, by its path relative to the workspace folder ('/' separated).</summary>
public sealed record WorkspaceFile(string Name, byte[] Content);
