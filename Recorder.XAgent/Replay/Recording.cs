namespace Recorder.XAgent.Replay;

/// <summary>
/// A recording ready to replay: the raws it produces in order (without the run's own first
/// <c>running</c> raw and without the terminal <c>finished</c>/<c>failed</c> one, which the run writes),
/// and the workspace files the original run left. <paramref name="Failure"/> is set when the original run
/// ended failed: the replay then ends with a <c>failed</c> raw carrying that message. <see cref="Version"/> tells one
/// version of the same recording from another, so that a run taken over replays the version it began with.
/// </summary>
public sealed record Recording(
    string Name,
    IReadOnlyList<ReplayStep> Steps,
    IReadOnlyList<WorkspaceFile> Workspace,
    string? Failure = null)
{
    /// <summary>Which version of the recording this is, in its source's terms (null when the source cannot tell).</summary>
    public string? Version { get; init; }
}
