using System.Text.Json.Nodes;

namespace Recorder.XAgent.Rows;

/// <summary>A row to import into <c>running_record</c> (its id and record id are the importer's).</summary>
public sealed record NewRunningRecord(string? Current, string? NodeId, string NodeType, JsonNode? Data, DateTimeOffset CreateTime);
