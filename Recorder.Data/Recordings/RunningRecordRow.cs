using System.Text.Json.Nodes;

namespace Recorder.Data.Recordings;

/// <summary>One row of XAgent's <c>running_record</c> table (a recording in XAgent's database format).</summary>
public sealed record RunningRecordRow(
    long Id,
    string RecordId,
    string? Current,
    string? NodeId,
    string NodeType,
    JsonNode? Data,
    DateTimeOffset CreateTime);

/// <summary>A recording stored in <c>running_record</c>, as <c>recordings list</c> shows it.</summary>
public sealed class RecordingSummary
{
    public required string RecordId { get; init; }
    public long Rows { get; init; }
    public DateTime FirstTime { get; init; }
}
