using System.Runtime.CompilerServices;
using Dapper;
using Npgsql;
using Recorder.Data.Resilience;

namespace Recorder.Data.Raws;

public sealed class RawRepository(NpgsqlDataSource dataSource)
{
    private const string Columns = "interaction_id, seq, node_id, current, step, data, status, is_human, include_pictures, is_send, create_time";

    // One statement, so one transaction: the seq is taken from the interaction row (gap-free, fenced by the
    // run owner and the interaction's status) and the raw is inserted with it; the insert trigger notifies.
    private const string AppendSql = """
        WITH s AS (
            UPDATE interactions
            SET last_seq = @Seq, update_time = now(),
                status = COALESCE(@InteractionStatus, status), message = COALESCE(@InteractionMessage, message)
            WHERE interaction_id = @InteractionId AND last_seq = @Seq - 1
              AND status IN ('waiting', 'running') AND run_owner = @owner
            RETURNING interaction_id)
        INSERT INTO raw (interaction_id, seq, node_id, current, step, data, status, is_human, include_pictures)
        SELECT s.interaction_id, @Seq, @NodeId, @Current, @step, @Data, @Status, @IsHuman, @IncludePictures FROM s
        """;

    private const string WrittenSql = "SELECT node_id FROM raw WHERE interaction_id = @InteractionId AND seq = @Seq";

    /// <summary>
    /// Commits <paramref name="raw"/> as number <see cref="RawAppend.Seq"/> of its interaction, provided
    /// <paramref name="owner"/> still owns the run and the interaction is waiting or running. Retried on
    /// transient failures: the node id tells a retry whether its first attempt committed.
    /// </summary>
    public Task<AppendOutcome> AppendAsync(RawAppend raw, string owner, CancellationToken cancellationToken) =>
        DbRetry.RunAsync(async ct =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            var parameters = new DynamicParameters(raw);
            parameters.Add("owner", owner);
            parameters.Add("step", (int)Math.Min(raw.Seq, int.MaxValue));
            var inserted = await connection.ExecuteAsync(new CommandDefinition(AppendSql, parameters, cancellationToken: ct));
            if (inserted == 1)
            {
                return AppendOutcome.Written;
            }

            var nodeId = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(WrittenSql, raw, cancellationToken: ct));
            return nodeId == raw.NodeId ? AppendOutcome.Written : AppendOutcome.Refused;
        }, cancellationToken).AsTask();

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

    private const string PendingSql = """
        SELECT DISTINCT interaction_id FROM raw WHERE NOT is_send AND NOT is_deleted LIMIT @limit
        """;

    /// <summary>Interactions that have unsent raws (the sweep's safety net).</summary>
    public Task<IReadOnlyList<string>> ListInteractionsWithUnsentAsync(int limit, CancellationToken cancellationToken) =>
        dataSource.QueryListAsync<string>(PendingSql, new { limit }, cancellationToken);

    private const string LockInteractionSql = "SELECT pg_try_advisory_xact_lock(hashtextextended(@interactionId, 7))";

    private const string UnsentSql = $"""
        SELECT {Columns} FROM raw
        WHERE interaction_id = @interactionId AND NOT is_send AND NOT is_deleted
        ORDER BY seq
        LIMIT @limit
        """;

    private const string MarkSentSql = """
        UPDATE raw SET is_send = true, update_time = now()
        WHERE interaction_id = @interactionId AND seq = ANY(@seqs)
        """;

    /// <summary>
    /// Pushes the interaction's unsent raws in seq order, one batch of at most <paramref name="limit"/>:
    /// takes the interaction's push lock (one pusher per interaction across instances; 0 at once when another
    /// holds it), hands the rows to <paramref name="send"/>, and marks them sent only after <paramref name="send"/>
    /// completed. Returns how many rows were pushed (0 when there was nothing to push).
    /// </summary>
    public async Task<int> PushUnsentAsync(
        string interactionId,
        int limit,
        Func<IReadOnlyList<RawRow>, CancellationToken, Task> send,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                LockInteractionSql, new { interactionId }, transaction, cancellationToken: cancellationToken)))
        {
            // Another instance is pushing this interaction. It was notified of the same inserts, so it pushes
            // what follows too; should it die, the sweep hands the rest to whoever is left.
            return 0;
        }

        var rows = (await connection.QueryAsync<RawRow>(new CommandDefinition(
            UnsentSql, new { interactionId, limit }, transaction, cancellationToken: cancellationToken))).AsList();
        if (rows.Count == 0)
        {
            return 0;
        }

        await send(rows, cancellationToken);
        var seqs = rows.Select(r => r.Seq).ToArray();
        await connection.ExecuteAsync(new CommandDefinition(
            MarkSentSql, new { interactionId, seqs }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return rows.Count;
    }
}
