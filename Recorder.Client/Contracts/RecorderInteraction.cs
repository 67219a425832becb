using System.Text.Json;
using System.Text.Json.Serialization;

namespace Recorder.Client.Contracts;

/// <summary>
/// The interaction as the <c>connect</c> envelope and the <c>closed</c> notice carry it as their data: the keys of
/// XAgent's interaction (snake_case, in this order on the hub's wire) plus <see cref="LastSeq"/>. Times are UTC,
/// written <c>yyyy-MM-dd HH:mm:ss</c> as the original writes them.
/// </summary>
public sealed record RecorderInteraction
{
    /// <summary>The interaction's id (the connect's <c>client_id</c>).</summary>
    public required string InteractionId { get; init; }

    /// <summary>The user it belongs to.</summary>
    public required string UserId { get; init; }

    /// <summary>When it was created (UTC).</summary>
    [JsonConverter(typeof(XAgentTimeConverter))]
    public DateTime CreateTime { get; init; }

    /// <summary>When it last changed (UTC).</summary>
    [JsonConverter(typeof(XAgentTimeConverter))]
    public DateTime UpdateTime { get; init; }

    /// <summary><c>XAgent Recorder</c> for a replay.</summary>
    public string Description { get; init; } = "";

    /// <summary><c>XAgent</c>.</summary>
    public string Agent { get; init; } = "";

    /// <summary><c>auto</c>.</summary>
    public string Mode { get; init; } = "";

    /// <summary>The files the interaction was given (XAgent's upload list; empty for a replay).</summary>
    public IReadOnlyList<JsonElement> FileList { get; init; } = [];

    /// <summary>The recording, relative to the server's recordings root.</summary>
    public string? RecorderRootDir { get; init; }

    /// <summary><c>waiting</c>, <c>running</c>, <c>finished</c>, <c>failed</c> or <c>closed</c>.</summary>
    public required string Status { get; init; }

    /// <summary>The status text.</summary>
    public string? Message { get; init; }

    /// <summary>XAgent's current step id.</summary>
    public string? CurrentStep { get; init; }

    /// <summary>Always false for an interaction a client can reach.</summary>
    public bool IsDeleted { get; init; }

    /// <summary><c>recorder</c>.</summary>
    public string CallMethod { get; init; } = "";

    /// <summary>The seq of the interaction's last raw when the envelope was sent.</summary>
    public long LastSeq { get; init; }

    /// <summary>The interaction a <c>connect</c> envelope or a <c>closed</c> notice carries; null for any other envelope.</summary>
    public static RecorderInteraction? Of(RecorderEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        return envelope is { Seq: 0, Status: RecorderStatus.Connect or RecorderStatus.Closed, Data: { ValueKind: JsonValueKind.Object } data }
            ? data.Deserialize<RecorderInteraction>(RecorderProtocol.JsonOptions)
            : null;
    }

    /// <summary>This interaction as the data of an envelope.</summary>
    public JsonElement ToData() => JsonSerializer.SerializeToElement(this, RecorderProtocol.JsonOptions);
}
