using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Recorder.Data.Batching;
using Recorder.Data.Json;
using Recorder.Data.Resilience;
using Recorder.XAgent;
using Recorder.XAgent.Rows;

namespace Recorder.Data.Recordings;

public sealed class RunningRecordRepository(NpgsqlDataSource dataSource)
{
    private const string ListSql = """
        SELECT id, record_id, current, node_id, node_type, data AS data_json, create_time FROM running_record
        WHERE record_id = @recordId AND NOT is_deleted
        ORDER BY id
        """;

    /// <summary>
    /// The rows of one recording in the order they were recorded; empty when there is none. A row whose data nests
    /// deeper than <see cref="JsonLimits.MaxDepth"/> throws <see cref="JsonException"/> naming the row.
    /// </summary>
    public async Task<IReadOnlyList<RunningRecordRow>> ListAsync(string recordId, CancellationToken cancellationToken)
    {
        var rows = await dataSource.QueryListAsync<Row>(ListSql, new { recordId }, cancellationToken);
        return [.. rows.Select(r => new RunningRecordRow(r.Id, r.RecordId, r.Current, r.NodeId, r.NodeType, ParseData(r),
            new DateTimeOffset(DateTime.SpecifyKind(r.CreateTime, DateTimeKind.Utc))))];
    }

    private static JsonNode? ParseData(Row row)
    {
        try
        {
            return row.DataJson is null ? null : JsonLimits.ParseNode(row.DataJson);
        }
        catch (JsonException exception)
        {
            throw new JsonException($"running_record row {row.Id}: its data is {exception.Message}", exception);
        }
    }

    // An import replaces rows and files in one transaction, so the rows' xmin changes with every import (and with
    // any later update of a row): with the row count it tells one version of a recording from the next.
    private const string VersionsSql = """
        SELECT r.record_id,
               count(*) AS rows,
               COALESCE(max(r.xmin::text::bigint), 0) AS xmin,
               COALESCE(sum(octet_length(r.data::text)), 0)
                   + (SELECT COALESCE(sum(octet_length(f.content)), 0) FROM recording_files f WHERE f.record_id = r.record_id) AS bytes
        FROM running_record r
        WHERE r.record_id = ANY(@recordIds) AND NOT r.is_deleted
        GROUP BY r.record_id
        """;

    private readonly Coalescer<string, RunningRecordVersion?> _versions = new(
        (recordIds, ct) => FindVersionsAsync(dataSource, recordIds, ct), maxBatch: 256);

    /// <summary>
    /// The version and size of an imported recording; null when there is none. The runs that start at the same time
    /// share one query (<see cref="Coalescer{TRequest, TResult}"/>).
    /// </summary>
    public Task<RunningRecordVersion?> FindVersionAsync(string recordId, CancellationToken cancellationToken) =>
        _versions.RunAsync(recordId, cancellationToken);

    private static async Task<IReadOnlyList<RunningRecordVersion?>> FindVersionsAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<string> recordIds, CancellationToken cancellationToken)
    {
        var found = (await dataSource.QueryListAsync<(string RecordId, long Rows, long Xmin, long Bytes)>(
                VersionsSql, new { recordIds = recordIds.Distinct(StringComparer.Ordinal).ToArray() }, cancellationToken))
            .ToDictionary(v => v.RecordId, v => new RunningRecordVersion($"{v.Rows}:{v.Xmin}", v.Bytes), StringComparer.Ordinal);
        return [.. recordIds.Select(id => found.GetValueOrDefault(id))];
    }

    private const string DeleteSql = "DELETE FROM running_record WHERE record_id = @recordId";

    private const string InsertSql = """
        INSERT INTO running_record (record_id, current, node_id, node_type, data, create_time, update_time)
        SELECT @recordId, r.current, r.node_id, r.node_type, r.data::jsonb, r.create_time, r.create_time
        FROM unnest(@currents, @nodeIds, @nodeTypes, @datas, @times) AS r(current, node_id, node_type, data, create_time)
        """;

    /// <summary>Stores a recording and its workspace files under <paramref name="recordId"/>, replacing any earlier import of that id.</summary>
    public Task<int> ReplaceAsync(
        string recordId,
        IReadOnlyList<NewRunningRecord> rows,
        IReadOnlyList<WorkspaceFile> files,
        CancellationToken cancellationToken)
    {
        var names = files.Select(f => f.Name).ToArray();
        var contents = files.Select(f => f.Content).ToArray();
        var currents = rows.Select(r => r.Current).ToArray();
        var nodeIds = rows.Select(r => r.NodeId).ToArray();
        var nodeTypes = rows.Select(r => r.NodeType).ToArray();
        var datas = rows.Select(r => r.Data?.ToJsonString(JsonLimits.Serializer)).ToArray();
        var times = rows.Select(r => r.CreateTime.UtcDateTime).ToArray();
        return DbRetry.RunAsync(async ct =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await connection.ExecuteAsync(new CommandDefinition(DeleteSql, new { recordId }, transaction, cancellationToken: ct));
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                InsertSql, new { recordId, currents, nodeIds, nodeTypes, datas, times }, transaction, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition(DeleteFilesSql, new { recordId }, transaction, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition(
                InsertFilesSql, new { recordId, names, contents }, transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
            return inserted;
        }, cancellationToken).AsTask();
    }

    private const string DeleteFilesSql = "DELETE FROM recording_files WHERE record_id = @recordId";

    private const string InsertFilesSql = """
        INSERT INTO recording_files (record_id, name, content)
        SELECT @recordId, f.name, f.content FROM unnest(@names, @contents) AS f(name, content)
        """;

    private const string FilesSql = "SELECT name, content FROM recording_files WHERE record_id = @recordId ORDER BY name";

    /// <summary>The workspace files stored with an imported recording.</summary>
    public Task<IReadOnlyList<WorkspaceFile>> ListFilesAsync(string recordId, CancellationToken cancellationToken) =>
        dataSource.QueryListAsync<WorkspaceFile>(FilesSql, new { recordId }, cancellationToken);

    private const string SummarySql = """
        SELECT record_id, count(*) AS rows, min(create_time) AS first_time
        FROM running_record WHERE NOT is_deleted
        GROUP BY record_id ORDER BY record_id
        """;

    public Task<IReadOnlyList<RecordingSummary>> ListRecordingsAsync(CancellationToken cancellationToken) =>
        dataSource.QueryListAsync<RecordingSummary>(SummarySql, null, cancellationToken);

    private sealed class Row
    {
        public long Id { get; init; }
        public required string RecordId { get; init; }
        public string? Current { get; init; }
        public string? NodeId { get; init; }
        public required string NodeType { get; init; }
        public string? DataJson { get; init; }
        public DateTime CreateTime { get; init; }
    }
}
