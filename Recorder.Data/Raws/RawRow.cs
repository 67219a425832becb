using System.Text.Json.Nodes;

namespace Recorder.Data.Raws;

public sealed class RawRow
{
    public required string InteractionId { get; init; }
    public long Seq { get; init; }
    public required string NodeId { get; init; }
    public string? Current { get; init; }
    public int Step { get; init; }
    public JsonNode? Data { get; init; }
    public required string Status { get; init; }
    public bool IsHuman { get; init; }
    public bool IncludePictures { get; init; }
    public bool IsSend { get; init; }
    public DateTime CreateTime { get; init; }
}

/// <summary>
/// A raw a run wants written as number <see cref="Seq"/> of its interaction. <see cref="NodeId"/> is the
/// idempotency key: a retry of an append that did commit finds its own row and succeeds.
/// </summary>
public sealed record RawAppend(
    string InteractionId,
    long Seq,
    string NodeId,
    string Status,
    string? Current,
    JsonNode? Data,
    bool IsHuman,
    bool IncludePictures,
    string? InteractionStatus,
    string? InteractionMessage);

public enum AppendOutcome
{
    /// <summary>The raw is committed.</summary>
    Written,

    /// <summary>
    /// Nothing written: the interaction is over (closed, finished, failed), another instance owns its run,
    /// or that seq is taken by another raw. The run must stop.
    /// </summary>
    Refused,
}
