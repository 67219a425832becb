namespace Recorder.Hub.Recordings;

/// <summary>
/// A recording ready to replay: the raws it produces in order (without the run's own first
/// <c>running</c> raw and without the terminal <c>finished</c>/<c>failed</c> one, which the run writes),
/// and the workspace files the original run left. <paramref name="Failure"/> is set when the original run
/// ended failed: the replay then ends with a <c>failed</c> raw carrying that message. <see cref="Version"/> tells one
/// version of the same recording from another, so that a run taken over replays the version it began with.
/// </summary>
public sealed record Recording(
    string Name,
    IReadOnlyList<Replay.ReplayStep> Steps,
    IReadOnlyList<WorkspaceFile> Workspace,
    string? Failure = null)
{
    /// <summary>Which version of the recording this is, in its source's terms (null when the source cannot tell).</summary>
    public string? Version { get; init; }
}

/// <summary>A file of a recording's workspace, by its path relative to the workspace folder ('/' separated).</summary>
public sealed record WorkspaceFile(string Name, byte[] Content);

/// <summary>A recording that cannot be read; the message names the file or row at fault.</summary>
public sealed class RecordingFormatException(string message, Exception? inner = null) : Exception(message, inner);
