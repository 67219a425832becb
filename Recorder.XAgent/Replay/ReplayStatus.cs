namespace Recorder.XAgent.Replay;

/// <summary>
/// The statuses of the raws an XAgent run writes between its <c>running</c> and its <c>finished</c>/<c>failed</c>:
/// XAgent's own names, the same strings as Recorder.Client's <c>RecorderStatus</c> (a test holds them equal).
/// </summary>
internal static class ReplayStatus
{
    public const string Start = "start";
    public const string Inner = "inner";
    public const string SubtaskSubmit = "subtask_submit";
    public const string Refinement = "refinement";
    public const string Subtask = "subtask";
}
