using System.Text.Json;

namespace Recorder.Data.Raws;

public sealed class RawRow
{
    public required string InteractionId { get; init; }
    public long Seq { get; init; }
    public required string NodeId { get; init; }
    public string? Current { get; init; }
    public int Step { get; init; }
    /// <summary>The raw's data as stored (null when the column is SQL NULL), immutable and ready to send.</summary>
    public JsonElement? Data { get; init; }
    public required string Status { get; init; }
    public bool IsHuman { get; init; }
    public bool IncludePictures { get; init; }
    public bool IsSend { get; init; }
    public DateTime CreateTime { get; init; }
}
