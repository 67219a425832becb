using System.Text.Json.Nodes;
using Recorder.Data.Json;

namespace Recorder.Data.Raws;

/// <summary>
/// A raw a run wants written as number <see cref="Seq"/> of its interaction. <see cref="NodeId"/> is the
/// idempotency key: a retry of an append that did commit finds its own row and succeeds. The data is serialized
/// here, on the caller's side, within <see cref="JsonLimits.MaxDepth"/>: a tree too deep fails its own run, never
/// the writer's batch, and the one writer spends no time on it.
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
    string? InteractionMessage)
{
    /// <summary>The data as the jsonb text to write.</summary>
    public string? DataJson { get; } = Data?.ToJsonString(JsonLimits.Serializer);
}
