namespace Recorder.Hub.Rest;

/// <summary>One interaction in <c>GET /api/interactions</c> (times as ISO 8601, UTC).</summary>
public sealed record InteractionSummary(
    string InteractionId, DateTime CreateTime, DateTime UpdateTime, string? Description, string? RecorderDir, string Status, string? Message, long LastSeq);
