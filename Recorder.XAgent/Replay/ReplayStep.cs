using System.Text.Json.Nodes;

namespace Recorder.XAgent.Replay;

/// <summary>
/// One raw a replay writes: <paramref name="Status"/> is the raw's status in XAgent's terms (Recorder.Client's <c>RecorderStatus</c>),
/// <paramref name="Data"/> is stored as jsonb, <paramref name="Current"/> is the subtask id.
/// <paramref name="RecordedAt"/> is when the original run produced it (null when unknown), used for pacing.
/// </summary>
public sealed record ReplayStep(
    string Status,
    JsonNode? Data,
    string? Current,
    bool IncludePictures,
    DateTimeOffset? RecordedAt);
