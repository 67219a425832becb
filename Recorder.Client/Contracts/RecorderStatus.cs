namespace Recorder.Client.Contracts;

/// <summary>The statuses an envelope may carry.</summary>
public static class RecorderStatus
{
#pragma warning disable CS1591 // names are self-describing
    public const string Connect = "connect";
    public const string Running = "running";
    public const string Start = "start";
    public const string Inner = "inner";
    public const string SubtaskSubmit = "subtask_submit";
    public const string Refinement = "refinement";
    public const string Subtask = "subtask";
    public const string Finished = "finished";
    public const string Failed = "failed";
    public const string Waiting = "waiting";
    public const string Closed = "closed";

    /// <summary>A control envelope (seq 0): the run is paused; data holds <c>speed</c> and <c>paused</c>.</summary>
    public const string Paused = "paused";

    /// <summary>A control envelope (seq 0): the run plays (again, or at a new speed); data holds <c>speed</c> and <c>paused</c>.</summary>
    public const string Playing = "playing";
#pragma warning restore CS1591
}
