using System.Text.Json.Nodes;

namespace Recorder.Data.Interactions;

public sealed class InteractionRow
{
    public required string InteractionId { get; init; }
    public required string UserId { get; init; }
    public DateTime CreateTime { get; init; }
    public DateTime UpdateTime { get; init; }
    public string Description { get; init; } = "";
    public string Agent { get; init; } = "";
    public string Mode { get; init; } = "";
    public string? RecorderRootDir { get; init; }
    public JsonNode? FileList { get; init; }
    public required string Status { get; init; }
    public string? Message { get; init; }
    public string? CurrentStep { get; init; }
    public bool IsDeleted { get; init; }
    public string CallMethod { get; init; } = "";
    public string? RecorderDir { get; init; }
    public long LastSeq { get; init; }

    /// <summary>The speed chosen at connect or since (null on interactions older than playback control).</summary>
    public double? ReplaySpeed { get; init; }

    public bool Paused { get; init; }

    /// <summary>Bumped by every playback change (0: never changed).</summary>
    public long ControlVersion { get; init; }
}
