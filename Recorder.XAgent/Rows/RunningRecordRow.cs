using System.Text.Json.Nodes;

namespace Recorder.XAgent.Rows;

/// <summary>One row of XAgent's <c>running_record</c> table (a recording in XAgent's database format).</summary>
public sealed record RunningRecordRow(
    long Id,
    string RecordId,
    string? Current,
    string? NodeId,
    string NodeType,
    JsonNode? Data,
    DateTimeOffset CreateTime);
