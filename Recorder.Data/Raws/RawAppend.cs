using System.Text.Json.Nodes;

namespace Recorder.Data.Raws;

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
