using System.Diagnostics;
using Dapper;
using Npgsql;

namespace Recorder.Bench;

/// <summary>One bare PostgreSQL measurement: how fast the same rows went in, written a given way.</summary>
internal sealed record BareInsertResult(string Mode, int Rows, int Commits, double WallMs)
{
    public double RowsPerSecond => Rows / (WallMs / 1000);
}

/// <summary>
/// The bare PostgreSQL limit of a scenario, measured on the same cluster in the same run: the raws Recorder wrote,
/// read back from <c>raw</c> and inserted again into <c>bare_raw</c> (same columns, indexes and defaults, and the same
/// statement-level <c>raw_notify_committed</c> trigger, so every commit sends its NOTIFY) with nothing else around
/// them: no fencing update, no run, no delivery. Run it after the hub has stopped, so that nothing competes with it.
/// </summary>
internal static class BarePostgres
{
    private const string CreateSql = """
        DROP TABLE IF EXISTS bare_raw;
        CREATE TABLE bare_raw (LIKE raw INCLUDING DEFAULTS INCLUDING INDEXES);
        CREATE TRIGGER bare_raw_committed AFTER INSERT ON bare_raw
            REFERENCING NEW TABLE AS inserted
            FOR EACH STATEMENT EXECUTE FUNCTION raw_notify_committed();
        """;

    private const string ReadSql = """
        SELECT interaction_id AS InteractionId, seq AS Seq, node_id AS NodeId, current AS Current, data::text AS Data,
               status AS Status, is_human AS IsHuman, include_pictures AS IncludePictures
        FROM raw WHERE interaction_id = ANY(@ids) ORDER BY interaction_id, seq
        """;

    private const string InsertOneSql = """
        INSERT INTO bare_raw (interaction_id, seq, node_id, current, step, data, status, is_human, include_pictures)
        VALUES (@InteractionId, @Seq, @NodeId, @Current, @Seq::integer, @Data::jsonb, @Status, @IsHuman, @IncludePictures)
        """;

    private const string InsertManySql = """
        INSERT INTO bare_raw (interaction_id, seq, node_id, current, step, data, status, is_human, include_pictures)
        SELECT r.interaction_id, r.seq, r.node_id, r.current, r.seq::integer, r.data::jsonb, r.status, r.is_human, r.include_pictures
        FROM unnest(@ids::text[], @seqs::bigint[], @nodeIds::text[], @currents::text[], @data::text[],
                    @statuses::text[], @humans::boolean[], @pictures::boolean[])
            AS r(interaction_id, seq, node_id, current, data, status, is_human, include_pictures)
        """;

    /// <summary>The raws of <paramref name="interactionIds"/> as Recorder committed them, grouped by interaction.</summary>
    public static async Task<IReadOnlyList<IReadOnlyList<BareRaw>>> ReadRawsAsync(
        NpgsqlDataSource dataSource, IReadOnlyCollection<string> interactionIds, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<BareRaw>(new CommandDefinition(ReadSql, new { ids = interactionIds.ToArray() }, cancellationToken: cancellationToken));
        return rows.GroupBy(r => r.InteractionId, StringComparer.Ordinal).Select(g => (IReadOnlyList<BareRaw>)g.ToList()).ToList();
    }

    /// <summary>
    /// Inserts <paramref name="interactions"/> twice over a fresh <c>bare_raw</c>: one row per commit with one writer
    /// per interaction at once (what a per-raw commit design can reach), then one writer committing
    /// <paramref name="batch"/> rows per statement (what a group commit can reach).
    /// </summary>
    public static async Task<IReadOnlyList<BareInsertResult>> MeasureAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<IReadOnlyList<BareRaw>> interactions, int batch, CancellationToken cancellationToken)
    {
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition(CreateSql, cancellationToken: cancellationToken));
        }

        var rows = interactions.Sum(i => i.Count);
        var oneEach = await TimeAsync(() => InsertOneByOneAsync(dataSource, Renamed(interactions, "one"), cancellationToken));
        var batched = await TimeAsync(() => InsertBatchedAsync(dataSource, Renamed(interactions, "batch"), batch, cancellationToken));
        return
        [
            new($"1 row per commit, {interactions.Count} writers at once", rows, rows, oneEach.Ms),
            new($"{batch} rows per commit, 1 writer", rows, batched.Commits, batched.Ms),
        ];
    }

    private static async Task<(double Ms, int Commits)> TimeAsync(Func<Task<int>> body)
    {
        var start = Stopwatch.GetTimestamp();
        var commits = await body();
        return (Units.ElapsedMs(start, Stopwatch.GetTimestamp()), commits);
    }

    private static IReadOnlyList<IReadOnlyList<BareRaw>> Renamed(IReadOnlyList<IReadOnlyList<BareRaw>> interactions, string pass) =>
        interactions.Select(i => (IReadOnlyList<BareRaw>)i.Select(r => r with { InteractionId = $"{pass}-{r.InteractionId}" }).ToList()).ToList();

    private static async Task<int> InsertOneByOneAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<IReadOnlyList<BareRaw>> interactions, CancellationToken cancellationToken)
    {
        await Task.WhenAll(interactions.Select(async raws =>
        {
            foreach (var raw in raws)
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await connection.ExecuteAsync(new CommandDefinition(InsertOneSql, raw, cancellationToken: cancellationToken));
            }
        }));
        return interactions.Sum(i => i.Count);
    }

    private static async Task<int> InsertBatchedAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<IReadOnlyList<BareRaw>> interactions, int batch, CancellationToken cancellationToken)
    {
        // The order a group commit sees under load: the next raw of every interaction, round after round.
        var queue = interactions.SelectMany(raws => raws.Select((raw, i) => (raw, i))).OrderBy(x => x.i).Select(x => x.raw).ToList();
        var commits = 0;
        foreach (var chunk in queue.Chunk(batch))
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition(InsertManySql, new
            {
                ids = chunk.Select(r => r.InteractionId).ToArray(),
                seqs = chunk.Select(r => r.Seq).ToArray(),
                nodeIds = chunk.Select(r => r.NodeId).ToArray(),
                currents = chunk.Select(r => r.Current).ToArray(),
                data = chunk.Select(r => r.Data).ToArray(),
                statuses = chunk.Select(r => r.Status).ToArray(),
                humans = chunk.Select(r => r.IsHuman).ToArray(),
                pictures = chunk.Select(r => r.IncludePictures).ToArray(),
            }, cancellationToken: cancellationToken));
            commits++;
        }

        return commits;
    }
}
