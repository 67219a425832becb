using System.Text.Json;
using System.Text.Json.Serialization;

namespace Recorder.Client.Contracts;

/// <summary>
/// The message the hub sends for every raw of an interaction: the original XAgent envelope plus
/// <see cref="InteractionId"/> and <see cref="Seq"/>. Serialised with snake_case names.
/// </summary>
public sealed record RecorderEnvelope
{
    /// <summary><c>connect</c>, <c>running</c>, <c>start</c>, <c>inner</c>, <c>subtask_submit</c>, <c>refinement</c>, <c>subtask</c>, <c>finished</c> or <c>failed</c>.</summary>
    public required string Status { get; init; }

    /// <summary>False only for a refusal of the connection.</summary>
    public bool Success { get; init; }

    /// <summary><c>success</c>, <c>connect success</c>, or the failure text.</summary>
    public string? Message { get; init; }

    /// <summary>The raw's processed data (see the protocol documentation).</summary>
    public JsonElement? Data { get; init; }

    /// <summary>The subtask id the raw belongs to.</summary>
    public string? Current { get; init; }

    /// <summary>The raw's node id.</summary>
    public string? NodeId { get; init; }

    /// <summary>The files in the interaction's workspace when the raw was sent.</summary>
    public IReadOnlyList<WorkspaceFileEntry>? WorkspaceFileList { get; init; }

    /// <summary>The interaction this message belongs to.</summary>
    public string? InteractionId { get; init; }

    /// <summary>1, 2, 3, ... per interaction, gap-free, in the order the raws were written; 0 for <c>connect</c> and refusals.</summary>
    public long Seq { get; init; }

    /// <summary>True for the last message of a run: <c>finished</c> or <c>failed</c>.</summary>
    [JsonIgnore]
    public bool IsTerminal => Status is RecorderStatus.Finished or RecorderStatus.Failed;
}
