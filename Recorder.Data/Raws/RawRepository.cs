using System.Runtime.CompilerServices;
using Dapper;
using Npgsql;
using Recorder.Data.Resilience;

namespace Recorder.Data.Raws;

public sealed class RawRepository(NpgsqlDataSource dataSource)
{
    /// <summary>The channel the insert trigger notifies once per statement: <c>interaction_id:last_seq,...</c>.</summary>
    public const string CommittedChannel = "raw_committed";

    private const string Columns = "interaction_id, seq, node_id, current, data AS data_json, status, include_pictures, is_send, create_time";

    // One statement, so one transaction, for many groups of many interactions: each group takes its seqs from its
    // interaction row (gap-free, fenced by the run owner and the interaction's status) and its raws are inserted only
    // when that interaction's fence passed. The statement-level insert trigger sends one notification. The rows are
    // locked first, in interaction_id order, as every statement that updates many interactions does (lease renewal,
    // run requests), so that none of them deadlock, whatever plan each gets.
    private const string AppendSql = """
        WITH g AS (
            SELECT * FROM unnest(@ids::text[], @owners::text[], @firsts::bigint[], @lasts::bigint[],
                                 @statuses::text[], @messages::text[], @versions::text[])
                AS g(interaction_id, owner, first_seq, last_seq, status, message, recording_version)),
        locked AS MATERIALIZED (
            SELECT interaction_id FROM interactions
            WHERE interaction_id IN (SELECT interaction_id FROM g)
            ORDER BY interaction_id
            FOR NO KEY UPDATE),
        fenced AS (
            UPDATE interactions i
            SET last_seq = g.last_seq, update_time = now(),
                status = COALESCE(g.status, i.status), message = COALESCE(g.message, i.message),
                recording_version = COALESCE(i.recording_version, g.recording_version)
            FROM g JOIN locked USING (interaction_id)
            WHERE i.interaction_id = g.interaction_id AND i.last_seq = g.first_seq - 1
              AND i.status IN ('waiting', 'running') AND i.run_owner = g.owner
            RETURNING i.interaction_id),
        inserted AS (
            INSERT INTO raw (interaction_id, seq, node_id, current, step, data, status, is_human, include_pictures)
            SELECT r.interaction_id, r.seq, r.node_id, r.current, LEAST(r.seq, 2147483647)::integer, r.data::jsonb,
                   r.status, r.is_human, r.include_pictures
            FROM unnest(@rIds::text[], @rSeqs::bigint[], @rNodeIds::text[], @rCurrents::text[], @rData::text[],
                        @rStatuses::text[], @rHumans::boolean[], @rPictures::boolean[])
                AS r(interaction_id, seq, node_id, current, data, status, is_human, include_pictures)
            WHERE r.interaction_id IN (SELECT interaction_id FROM fenced))
        SELECT interaction_id FROM fenced
        """;

    // After a refusal: did an earlier attempt of the same group commit? Its last raw carries its node id.
    private const string WrittenSql = """
        SELECT r.interaction_id FROM raw r
        JOIN unnest(@ids::text[], @seqs::bigint[], @nodeIds::text[]) AS w(interaction_id, seq, node_id)
          ON r.interaction_id = w.interaction_id AND r.seq = w.seq AND r.node_id = w.node_id
        """;

    /// <summary>
    /// Commits every group whose owner still owns its interaction's run, whose interaction is waiting or running and
    /// whose first seq follows the interaction's last, in one transaction; a group that fails its fence is refused
    /// alone. Retried on transient failures: a group an earlier attempt committed is found by its last node id.
    /// Returns the outcome of each group, in order. At most one group per interaction.
    /// </summary>
    public Task<IReadOnlyList<AppendOutcome>> AppendAsync(IReadOnlyList<RawAppendGroup> groups, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Select(g => g.InteractionId).Distinct(StringComparer.Ordinal).Count() != groups.Count)
        {
            throw new ArgumentException("At most one group per interaction.", nameof(groups));
        }

        var raws = groups.SelectMany(g => g.Raws).ToList();
        var args = new
        {
            ids = groups.Select(g => g.InteractionId).ToArray(),
            owners = groups.Select(g => g.Owner).ToArray(),
            firsts = groups.Select(g => g.FirstSeq).ToArray(),
            lasts = groups.Select(g => g.LastSeq).ToArray(),
            statuses = groups.Select(g => g.Raws.LastOrDefault(r => r.InteractionStatus is not null)?.InteractionStatus).ToArray(),
            messages = groups.Select(g => g.Raws.LastOrDefault(r => r.InteractionMessage is not null)?.InteractionMessage).ToArray(),
            versions = groups.Select(g => g.RecordingVersion).ToArray(),
            rIds = raws.Select(r => r.InteractionId).ToArray(),
            rSeqs = raws.Select(r => r.Seq).ToArray(),
            rNodeIds = raws.Select(r => r.NodeId).ToArray(),
            rCurrents = raws.Select(r => r.Current).ToArray(),
            rData = raws.Select(r => r.DataJson).ToArray(),
            rStatuses = raws.Select(r => r.Status).ToArray(),
            rHumans = raws.Select(r => r.IsHuman).ToArray(),
            rPictures = raws.Select(r => r.IncludePictures).ToArray(),
        };

        return DbRetry.RunAsync<IReadOnlyList<AppendOutcome>>(async ct =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            var written = (await connection.QueryAsync<string>(new CommandDefinition(AppendSql, args, cancellationToken: ct)))
                .ToHashSet(StringComparer.Ordinal);
            var refused = groups.Where(g => !written.Contains(g.InteractionId)).ToList();
            if (refused.Count > 0)
            {
                written.UnionWith(await connection.QueryAsync<string>(new CommandDefinition(WrittenSql, new
                {
                    ids = refused.Select(g => g.InteractionId).ToArray(),
                    seqs = refused.Select(g => g.LastSeq).ToArray(),
                    nodeIds = refused.Select(g => g.Raws[^1].NodeId).ToArray(),
                }, cancellationToken: ct)));
            }

            return groups.Select(g => written.Contains(g.InteractionId) ? AppendOutcome.Written : AppendOutcome.Refused).ToList();
        }, cancellationToken).AsTask();
    }

    /// <summary>Commits one raw (a group of one); see <see cref="AppendAsync(IReadOnlyList{RawAppendGroup}, CancellationToken)"/>.</summary>
    public async Task<AppendOutcome> AppendAsync(RawAppend raw, string owner, CancellationToken cancellationToken) =>
        (await AppendAsync([new RawAppendGroup(owner, [raw])], cancellationToken))[0];

    private const string ListAfterSql = $"""
        SELECT {Columns} FROM raw
        WHERE interaction_id = @interactionId AND seq > @afterSeq AND NOT is_deleted
        ORDER BY seq
        LIMIT @limit
        """;

    /// <summary>Committed raws with <c>seq &gt; afterSeq</c>, sent or not, in seq order.</summary>
    public Task<IReadOnlyList<RawRow>> ListAfterAsync(string interactionId, long afterSeq, int limit, CancellationToken cancellationToken) =>
        dataSource.QueryListAsync<RawRow>(ListAfterSql, new { interactionId, afterSeq, limit }, cancellationToken);

    /// <summary>Every committed raw with <c>seq &gt; afterSeq</c>, in seq order, a page at a time.</summary>
    public async IAsyncEnumerable<IReadOnlyList<RawRow>> ListPagesAfterAsync(
        string interactionId,
        long afterSeq,
        int pageSize,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var after = afterSeq;
        while (true)
        {
            var page = await ListAfterAsync(interactionId, after, pageSize, cancellationToken);
            if (page.Count > 0)
            {
                yield return page;
            }

            if (page.Count < pageSize)
            {
                yield break;
            }

            after = page[^1].Seq;
        }
    }

    private const string ListAfterManySql = $"""
        SELECT r.* FROM unnest(@ids::text[], @afters::bigint[], @limits::integer[]) AS c(interaction_id, after_seq, lim)
        CROSS JOIN LATERAL (
            SELECT {Columns} FROM raw
            WHERE raw.interaction_id = c.interaction_id AND raw.seq > c.after_seq AND NOT raw.is_deleted
            ORDER BY raw.seq
            LIMIT LEAST(@limit, NULLIF(c.lim, 0))) r
        """;

    /// <summary>
    /// For each cursor, up to its own limit (at most <paramref name="limitEach"/>) committed raws after it, in one query:
    /// the rows of one interaction together and in seq order.
    /// </summary>
    public Task<IReadOnlyList<RawRow>> ListAfterAsync(IReadOnlyList<RawCursor> cursors, int limitEach, CancellationToken cancellationToken) =>
        cursors.Count == 0
            ? Task.FromResult<IReadOnlyList<RawRow>>([])
            : dataSource.QueryListAsync<RawRow>(ListAfterManySql, new
            {
                ids = cursors.Select(c => c.InteractionId).ToArray(),
                afters = cursors.Select(c => c.AfterSeq).ToArray(),
                limits = cursors.Select(c => c.Limit).ToArray(),
                limit = limitEach,
            }, cancellationToken);

    // is_send is information (the original's "written to a client"), not what delivery relies on: the mark commits
    // without waiting for its WAL flush, so that marking never competes with the appends for the disk's commit rate.
    // A crash can lose the last marks of a fraction of a second, never a raw.
    private const string MarkSentSql = """
        SELECT set_config('synchronous_commit', 'off', true);
        UPDATE raw r SET is_send = true, update_time = now()
        FROM unnest(@ids::text[], @froms::bigint[], @upTo::bigint[]) AS s(interaction_id, from_seq, up_to)
        WHERE r.interaction_id = s.interaction_id AND r.seq BETWEEN s.from_seq AND s.up_to AND NOT r.is_send AND NOT r.is_deleted;
        """;

    /// <summary>Marks sent, for each interaction, its raws from one seq to another (written to at least one connection).</summary>
    public Task MarkSentAsync(IReadOnlyList<(string InteractionId, long FromSeq, long UpToSeq)> sent, CancellationToken cancellationToken) =>
        sent.Count == 0
            ? Task.CompletedTask
            : dataSource.ExecuteCountAsync(MarkSentSql, new
            {
                ids = sent.Select(s => s.InteractionId).ToArray(),
                froms = sent.Select(s => s.FromSeq).ToArray(),
                upTo = sent.Select(s => s.UpToSeq).ToArray(),
            }, cancellationToken);
}
