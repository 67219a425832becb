namespace Recorder.XAgent;

/// <summary>
/// Where a record of an XAgent recording came from: <paramref name="Source"/> is the file path relative to the
/// recording folder ('/' separated) or <c>running_record row &lt;id&gt;</c>; <paramref name="Time"/> is the file's
/// last-write time or the row's create_time.
/// </summary>
public sealed record XAgentOrigin(string Source, DateTimeOffset? Time);
