using Dapper;
using Npgsql;
using Recorder.Data.Batching;
using Recorder.Data.Resilience;

namespace Recorder.Data.Interactions;

/// <summary>Interactions, their run leases and the hub connections attached to them.</summary>
public sealed class InteractionRepository(NpgsqlDataSource dataSource)
{
    private readonly Coalescer<RunRequest, RunRequestOutcome> _requests = new((requests, ct) => RequestRunsAsync(dataSource, requests, ct), maxBatch: 512);
    private readonly Coalescer<string, bool> _detaches = new((connectionIds, ct) => DetachConnectionsAsync(dataSource, connectionIds, ct), maxBatch: 512);

    private const string Columns = """
        interaction_id, user_id, create_time, update_time, description, agent, mode, recorder_root_dir,
        file_list, status, message, current_step, is_deleted, call_method, recorder_dir, last_seq,
        replay_speed, paused, control_version
        """;

    private const string FindSql = $"SELECT {Columns} FROM interactions WHERE interaction_id = @interactionId";

    public Task<InteractionRow?> FindAsync(string interactionId, CancellationToken cancellationToken) =>
        dataSource.QueryOneAsync<InteractionRow>(FindSql, new { interactionId }, cancellationToken);

    private const string ListByUserSql = $"""
        SELECT {Columns} FROM interactions
        WHERE user_id = @userId AND NOT is_deleted
        ORDER BY create_time DESC, interaction_id DESC
        LIMIT @limit
        """;

    private const string ListByUserBeforeSql = $"""
        SELECT {Columns} FROM interactions
        WHERE user_id = @userId AND NOT is_deleted AND (create_time, interaction_id) < (@createTime, @interactionId)
        ORDER BY create_time DESC, interaction_id DESC
        LIMIT @limit
        """;

    /// <summary>
    /// A user's interactions (not deleted), newest first (by create_time, then interaction_id), at most
    /// <paramref name="limit"/>; after <paramref name="before"/> in that order when given (keyset paging: a page does
    /// not shift when interactions are created or deleted meanwhile).
    /// </summary>
    public Task<IReadOnlyList<InteractionRow>> ListByUserAsync(
        string userId, (DateTime CreateTime, string InteractionId)? before, int limit, CancellationToken cancellationToken) =>
        before is var (createTime, interactionId)
            ? dataSource.QueryListAsync<InteractionRow>(ListByUserBeforeSql, new { userId, createTime, interactionId, limit }, cancellationToken)
            : dataSource.QueryListAsync<InteractionRow>(ListByUserSql, new { userId, limit }, cancellationToken);

    // Rows locked in interaction_id order, like every statement that updates many interactions (see RawRepository's
    // group commit), so that they never deadlock each other. A request that names an owner takes the lease too when
    // nobody holds it (the run never started): the instance holding the client runs its replay, without a claim.
    private const string RequestRunsSql = """
        UPDATE interactions i SET run_requested = true, update_time = now(),
            run_owner = CASE WHEN r.owner IS NOT NULL AND i.run_owner IS NULL AND NOT i.is_deleted THEN r.owner ELSE i.run_owner END,
            run_lease_until = CASE WHEN r.owner IS NOT NULL AND i.run_owner IS NULL AND NOT i.is_deleted THEN now() + r.lease ELSE i.run_lease_until END
        FROM (
            SELECT interaction_id FROM interactions
            WHERE interaction_id = ANY(@ids) AND NOT run_requested AND status = 'waiting'
            ORDER BY interaction_id
            FOR NO KEY UPDATE) l
        JOIN unnest(@ids::text[], @owners::text[], @leases::interval[]) AS r(interaction_id, owner, lease) USING (interaction_id)
        WHERE i.interaction_id = l.interaction_id AND NOT i.run_requested AND i.status = 'waiting'
        RETURNING i.interaction_id, i.user_id, i.recorder_dir, i.last_seq, i.recording_version, i.replay_speed, i.paused,
                  i.control_version, r.owner IS NOT NULL AND i.run_owner = r.owner AS claimed
        """;

    /// <summary>
    /// Marks the run as wanted; false when it already was (or the interaction is over). Requests made at the same
    /// time share one statement (<see cref="Coalescer{TRequest, TResult}"/>).
    /// </summary>
    public async Task<bool> RequestRunAsync(string interactionId, CancellationToken cancellationToken) =>
        (await _requests.RunAsync(new RunRequest(interactionId, null, TimeSpan.Zero), cancellationToken)).Requested;

    /// <summary>
    /// Marks the run as wanted and, when nobody holds its lease (it never started), takes the lease for
    /// <paramref name="owner"/> at once: the outcome's claim is then the run to execute (nobody else will claim it).
    /// </summary>
    public Task<RunRequestOutcome> RequestRunAsync(string interactionId, string owner, TimeSpan lease, CancellationToken cancellationToken) =>
        _requests.RunAsync(new RunRequest(interactionId, owner, lease), cancellationToken);

    private static async Task<IReadOnlyList<RunRequestOutcome>> RequestRunsAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<RunRequest> requests, CancellationToken cancellationToken)
    {
        // A second request of the same run in the batch is the no-op.
        var distinct = requests.DistinctBy(r => r.InteractionId, StringComparer.Ordinal).ToList();
        var args = new
        {
            ids = distinct.Select(r => r.InteractionId).ToArray(),
            owners = distinct.Select(r => r.Owner).ToArray(),
            leases = distinct.Select(r => r.Lease).ToArray(),
        };
        var rows = (await DbRetry.RunAsync(async ct =>
            {
                // Each row is the run's claim, then whether the request took the lease.
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                return await connection.QueryAsync<RunClaim, bool, (RunClaim Claim, bool Claimed)>(
                    new CommandDefinition(RequestRunsSql, args, cancellationToken: ct), (claim, claimed) => (claim, claimed), splitOn: "claimed");
            }, cancellationToken))
            .ToDictionary(r => r.Claim.InteractionId, StringComparer.Ordinal);
        return [.. requests.Select(r => rows.Remove(r.InteractionId, out var row)
            ? new RunRequestOutcome(true, row.Claimed ? row.Claim : null)
            : new RunRequestOutcome(false, null))];
    }

    private sealed record RunRequest(string InteractionId, string? Owner, TimeSpan Lease);

    private const string ClaimRunsSql = """
        UPDATE interactions i SET run_owner = @owner, run_lease_until = now() + @lease
        FROM (
            SELECT interaction_id FROM interactions
            WHERE run_requested AND status IN ('waiting', 'running') AND NOT is_deleted
              AND (run_owner IS NULL OR run_lease_until < now() OR (run_owner = @owner AND NOT interaction_id = ANY(@running)))
            ORDER BY update_time
            LIMIT @max
            FOR UPDATE SKIP LOCKED) c
        WHERE i.interaction_id = c.interaction_id
        RETURNING i.interaction_id, i.user_id, i.recorder_dir, i.last_seq, i.recording_version,
                  i.replay_speed, i.paused, i.control_version
        """;

    /// <summary>
    /// Takes the lease of up to <paramref name="max"/> requested runs that nobody holds (never started, or
    /// whose owner stopped renewing), oldest first, and of runs <paramref name="owner"/> holds but is not running (not
    /// in <paramref name="running"/>: interrupted by an outage, they continue at once instead of after their lease).
    /// </summary>
    public Task<IReadOnlyList<RunClaim>> ClaimRunsAsync(string owner, TimeSpan lease, int max, IReadOnlyCollection<string> running, CancellationToken cancellationToken) =>
        dataSource.QueryListAsync<RunClaim>(ClaimRunsSql, new { owner, lease, max, running = running.ToArray() }, cancellationToken);

    /// <summary>The same for an owner that runs nothing now.</summary>
    public Task<IReadOnlyList<RunClaim>> ClaimRunsAsync(string owner, TimeSpan lease, int max, CancellationToken cancellationToken) =>
        ClaimRunsAsync(owner, lease, max, [], cancellationToken);

    // Rows locked in interaction_id order (see RequestRunsSql).
    private const string RenewSql = """
        UPDATE interactions i SET run_lease_until = now() + @lease
        FROM (
            SELECT interaction_id FROM interactions
            WHERE interaction_id = ANY(@ids) AND run_owner = @owner
            ORDER BY interaction_id
            FOR NO KEY UPDATE) l
        WHERE i.interaction_id = l.interaction_id AND i.run_owner = @owner
        RETURNING i.interaction_id
        """;

    /// <summary>
    /// Extends the leases this owner still holds; returns the ids it still owns (a run that just finished still
    /// counts; one whose interaction was closed does not: closing clears the owner).
    /// </summary>
    public Task<IReadOnlyList<string>> RenewLeasesAsync(string owner, IReadOnlyCollection<string> ids, TimeSpan lease, CancellationToken cancellationToken) =>
        dataSource.QueryListAsync<string>(RenewSql, new { owner, ids = ids.ToArray(), lease }, cancellationToken);

    private const string ReleaseSql = """
        UPDATE interactions SET run_owner = NULL, run_lease_until = NULL
        WHERE interaction_id = @interactionId AND run_owner = @owner
        """;

    /// <summary>Gives the lease back (on shutdown) so that another instance can continue at once.</summary>
    public Task ReleaseRunAsync(string owner, string interactionId, CancellationToken cancellationToken) =>
        dataSource.ExecuteCountAsync(ReleaseSql, new { owner, interactionId }, cancellationToken);

    // The interaction must be the caller's: a connection attaches only to its own user's interactions.
    private const string AttachSql = $"""
        WITH owned AS (
            SELECT interaction_id FROM interactions WHERE interaction_id = @interactionId AND user_id = @userId),
        c AS (
            INSERT INTO hub_connections (connection_id, interaction_id, instance_id)
            SELECT @connectionId, interaction_id, @instanceId FROM owned
            ON CONFLICT (connection_id, interaction_id) DO NOTHING)
        UPDATE interactions SET detached_since = NULL, update_time = now()
        WHERE interaction_id IN (SELECT interaction_id FROM owned)
        RETURNING {Columns}
        """;

    /// <summary>
    /// Records the connection as attached to <paramref name="userId"/>'s interaction (the grace stops) and returns the
    /// interaction as it is now; null when there is no such interaction of that user.
    /// </summary>
    public Task<InteractionRow?> AttachConnectionAsync(string connectionId, string interactionId, string userId, string instanceId, CancellationToken cancellationToken) =>
        dataSource.QueryOneAsync<InteractionRow>(AttachSql, new { connectionId, interactionId, userId, instanceId }, cancellationToken);

    // Two statements in one round trip and one implicit transaction: the per-user lock first, so that the busy check
    // of the second (which takes its snapshot after the lock) sees every connect of the same user that went before.
    // The second creates the interaction when the id is free (and the user is not busy), or re-attaches to it when it
    // is the user's, and records the connection in both cases.
    private const string ConnectSql = $"""
        SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtextextended(@UserId, 11));
        WITH existing AS (
            SELECT interaction_id, user_id FROM interactions WHERE interaction_id = @InteractionId),
        live AS (
            SELECT count(*) AS n FROM interactions
            WHERE user_id = @UserId AND status IN ('waiting', 'running') AND NOT is_deleted),
        limits AS (
            SELECT NOT EXISTS (SELECT 1 FROM existing) AND (SELECT n FROM live) >= @maxLive AS too_many_interactions,
                   (SELECT count(*) FROM hub_connections h JOIN interactions i ON i.interaction_id = h.interaction_id
                    WHERE i.user_id = @UserId) >= @maxConnections AS too_many_connections),
        busy AS (
            SELECT (@refuseIfUserBusy AND NOT EXISTS (SELECT 1 FROM existing) AND (SELECT n FROM live) > 0)
                   OR (SELECT too_many_interactions OR too_many_connections FROM limits) AS user_busy),
        created AS (
            INSERT INTO interactions (interaction_id, user_id, description, agent, mode, recorder_root_dir, file_list,
                                      status, message, current_step, call_method, recorder_dir, replay_speed)
            SELECT @InteractionId, @UserId, @Description, @Agent, @Mode, @RecorderRootDir, '[]',
                   @Status, @Message, @CurrentStep, @CallMethod, @RecorderDir, @ReplaySpeed
            WHERE NOT EXISTS (SELECT 1 FROM existing) AND NOT (SELECT user_busy FROM busy)
            ON CONFLICT (interaction_id) DO NOTHING
            RETURNING {Columns}),
        reattached AS (
            UPDATE interactions SET detached_since = NULL, update_time = now()
            WHERE interaction_id IN (SELECT interaction_id FROM existing WHERE user_id = @UserId)
              AND NOT (SELECT too_many_connections FROM limits)
            RETURNING {Columns}),
        recorded AS (
            INSERT INTO hub_connections (connection_id, interaction_id, instance_id)
            SELECT @connectionId, interaction_id, @instanceId FROM created
            UNION ALL SELECT @connectionId, interaction_id, @instanceId FROM reattached
            ON CONFLICT (connection_id, interaction_id) DO NOTHING)
        SELECT CASE
                   WHEN (SELECT too_many_connections FROM limits) THEN 'too_many_connections'
                   WHEN (SELECT too_many_interactions FROM limits) THEN 'too_many_interactions'
                   WHEN (SELECT user_busy FROM busy) THEN 'user_busy'
                   WHEN EXISTS (SELECT 1 FROM created) THEN 'created'
                   WHEN EXISTS (SELECT 1 FROM reattached) THEN 'reattached'
                   WHEN EXISTS (SELECT 1 FROM existing) THEN 'other_user'
                   ELSE 'id_taken' END AS outcome,
               o.*
        FROM (SELECT 1) AS one
        LEFT JOIN (SELECT * FROM created UNION ALL SELECT * FROM reattached) o ON true
        """;

    /// <summary>
    /// The whole connect in one round trip: creates <paramref name="candidate"/> and attaches the connection, or
    /// re-attaches the connection to the user's existing interaction of that id. With <paramref name="refuseIfUserBusy"/>
    /// a new interaction is refused while the user has another waiting or running one (under a per-user lock, so two
    /// connects at once cannot both pass). <paramref name="limits"/> bound the user's live interactions (for a new one)
    /// and attached connections (for any connect), under the same lock.
    /// </summary>
    public Task<ConnectResult> ConnectAsync(
        InteractionRow candidate, string connectionId, string instanceId, bool refuseIfUserBusy, UserLimits limits, CancellationToken cancellationToken) =>
        DbRetry.RunAsync(async ct =>
        {
            var args = new DynamicParameters(candidate);
            args.AddDynamicParams(new { connectionId, instanceId, refuseIfUserBusy, maxLive = limits.LiveInteractions, maxConnections = limits.Connections });
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            using var results = await connection.QueryMultipleAsync(new CommandDefinition(ConnectSql, args, cancellationToken: ct));
            await results.ReadAsync();
            return results.Read<string, InteractionRow?, ConnectResult>(
                (outcome, interaction) => new ConnectResult(Enum.Parse<ConnectOutcome>(outcome.Replace("_", ""), ignoreCase: true), interaction),
                splitOn: "interaction_id").Single();
        }, cancellationToken).AsTask();

    private const string StatesSql = """
        SELECT interaction_id, last_seq, status, replay_speed, paused, control_version
        FROM interactions WHERE interaction_id = ANY(@ids)
        """;

    /// <summary>The last seq and status of each of the interactions (one query, whatever their number).</summary>
    public Task<IReadOnlyList<InteractionState>> ListStatesAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken) =>
        ids.Count == 0
            ? Task.FromResult<IReadOnlyList<InteractionState>>([])
            : dataSource.QueryListAsync<InteractionState>(StatesSql, new { ids = ids.ToArray() }, cancellationToken);

    /// <summary>The channel every playback change notifies, with the interaction id as payload.</summary>
    public const string ControlChannel = "interaction_control";

    // One statement: the change, its version and the notification (sent on commit) together; only the owner's
    // interaction, and only while its run can still change.
    private const string ControlSql = """
        UPDATE interactions
        SET paused = coalesce(@paused, paused),
            replay_speed = coalesce(@speed, replay_speed, @defaultSpeed),
            control_version = control_version + 1
        WHERE interaction_id = @interactionId AND user_id = @userId
          AND status IN ('waiting', 'running') AND NOT is_deleted
        RETURNING replay_speed, paused, control_version, pg_notify('interaction_control', interaction_id) AS notified
        """;

    /// <summary>
    /// Sets the playback of <paramref name="userId"/>'s interaction (null leaves a value as it is; a row without a
    /// speed of its own gets <paramref name="defaultSpeed"/>) and notifies <see cref="ControlChannel"/>; null when the
    /// interaction is not that user's, or is over.
    /// </summary>
    public Task<PlaybackState?> SetPlaybackAsync(string interactionId, string userId, bool? paused, double? speed, double defaultSpeed, CancellationToken cancellationToken) =>
        dataSource.QueryOneAsync<PlaybackState>(ControlSql, new { interactionId, userId, paused, speed, defaultSpeed }, cancellationToken);

    private const string PlaybackSql = "SELECT replay_speed, paused, control_version FROM interactions WHERE interaction_id = @interactionId";

    /// <summary>The interaction's playback as it is now (the run reads it when woken); null when it is gone.</summary>
    public Task<PlaybackState?> ReadPlaybackAsync(string interactionId, CancellationToken cancellationToken) =>
        dataSource.QueryOneAsync<PlaybackState>(PlaybackSql, new { interactionId }, cancellationToken);

    // The interactions whose last connections these were are locked in interaction_id order, like every statement that
    // updates many interactions. The statement's snapshot does not see its own deletes: the connections it removes are
    // left out of the "another connection remains" test by name.
    private const string DetachSql = """
        WITH gone AS (
            DELETE FROM hub_connections WHERE connection_id = ANY(@connectionIds) RETURNING interaction_id),
        left_alone AS (
            SELECT i.interaction_id FROM interactions i
            WHERE i.interaction_id IN (SELECT interaction_id FROM gone)
              AND NOT EXISTS (
                  SELECT 1 FROM hub_connections h
                  WHERE h.interaction_id = i.interaction_id AND h.connection_id <> ALL(@connectionIds))
            ORDER BY i.interaction_id
            FOR NO KEY UPDATE OF i)
        UPDATE interactions i SET detached_since = now()
        FROM left_alone l WHERE i.interaction_id = l.interaction_id
        """;

    /// <summary>
    /// Forgets the connection; for each interaction it was the last one of, the disconnect grace (re)starts now.
    /// Connections that leave at the same time share one statement (<see cref="Coalescer{TRequest, TResult}"/>).
    /// (A detach racing an attach may set it while the new connection is attached; harmless, since a closing needs
    /// no live connection, and the next detach sets it again.)
    /// </summary>
    public Task DetachConnectionAsync(string connectionId, CancellationToken cancellationToken) =>
        _detaches.RunAsync(connectionId, cancellationToken);

    private static async Task<IReadOnlyList<bool>> DetachConnectionsAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<string> connectionIds, CancellationToken cancellationToken)
    {
        await dataSource.ExecuteCountAsync(DetachSql, new { connectionIds = connectionIds.Distinct(StringComparer.Ordinal).ToArray() }, cancellationToken);
        return [.. connectionIds.Select(_ => true)];
    }

    private const string HeartbeatSql = """
        INSERT INTO hub_instances (instance_id) VALUES (@instanceId)
        ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = now()
        RETURNING (xmax = 0) AS created
        """;

    /// <summary>
    /// Tells the other instances this one is alive (its connections count as live). True when the instance's row had
    /// to be created: it is new, or it was pruned (with its connections) while its heartbeat was late.
    /// </summary>
    public Task<bool> HeartbeatAsync(string instanceId, CancellationToken cancellationToken) =>
        dataSource.ScalarAsync<bool>(HeartbeatSql, new { instanceId }, cancellationToken);

    // Rows attached in the last few seconds are left alone: their connection may have joined after the snapshot.
    private const string ReconcileSql = """
        WITH live AS (
            SELECT * FROM unnest(@connectionIds::text[], @interactionIds::text[]) AS l(connection_id, interaction_id)),
        added AS (
            INSERT INTO hub_connections (connection_id, interaction_id, instance_id)
            SELECT l.connection_id, l.interaction_id, @instanceId FROM live l
            JOIN interactions i ON i.interaction_id = l.interaction_id
            ON CONFLICT (connection_id, interaction_id) DO NOTHING
            RETURNING interaction_id),
        gone AS (
            DELETE FROM hub_connections h
            WHERE h.instance_id = @instanceId AND h.connected_at < now() - interval '5 seconds'
              AND NOT EXISTS (SELECT 1 FROM live l WHERE l.connection_id = h.connection_id AND l.interaction_id = h.interaction_id)
            RETURNING h.interaction_id)
        UPDATE interactions i
        SET detached_since = CASE WHEN i.interaction_id IN (SELECT interaction_id FROM added) THEN NULL ELSE now() END
        WHERE i.interaction_id IN (SELECT interaction_id FROM added UNION SELECT interaction_id FROM gone)
        """;

    /// <summary>
    /// Makes this instance's rows of <c>hub_connections</c> match the connections it really holds: rows lost (pruned
    /// while this instance could not heartbeat) come back, rows left behind (a detach that failed) go, starting the grace.
    /// </summary>
    public Task ReconcileConnectionsAsync(string instanceId, IReadOnlyList<(string ConnectionId, string InteractionId)> attached, CancellationToken cancellationToken) =>
        dataSource.ExecuteCountAsync(ReconcileSql, new
        {
            instanceId,
            connectionIds = attached.Select(a => a.ConnectionId).ToArray(),
            interactionIds = attached.Select(a => a.InteractionId).ToArray(),
        }, cancellationToken);

    private const string RemoveInstanceSql = """
        WITH gone AS (
            DELETE FROM hub_connections WHERE instance_id = @instanceId RETURNING interaction_id),
        i AS (DELETE FROM hub_instances WHERE instance_id = @instanceId)
        UPDATE interactions SET detached_since = now()
        WHERE interaction_id IN (SELECT interaction_id FROM gone) AND detached_since IS NULL
        """;

    /// <summary>Removes this instance and its connections (on a clean shutdown).</summary>
    public Task RemoveInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        dataSource.ExecuteCountAsync(RemoveInstanceSql, new { instanceId }, cancellationToken);

    // A connection whose instance has no row at all (an instance removed while a connect of it was still landing)
    // is an orphan once it is older than the timeout: a live instance writes its row before it takes connections and
    // writes it again within a poll if a peer pruned it, so it never has connections without a row for that long.
    private const string PruneSql = """
        WITH dead AS (
            DELETE FROM hub_instances WHERE heartbeat_at < now() - @deadAfter RETURNING instance_id),
        gone AS (
            DELETE FROM hub_connections h
            WHERE h.instance_id IN (SELECT instance_id FROM dead)
               OR (h.connected_at < now() - @deadAfter
                   AND NOT EXISTS (SELECT 1 FROM hub_instances n WHERE n.instance_id = h.instance_id))
            RETURNING h.connection_id, h.interaction_id)
        UPDATE interactions i SET detached_since = now()
        WHERE i.interaction_id IN (SELECT interaction_id FROM gone) AND i.detached_since IS NULL
          AND NOT EXISTS (
              SELECT 1 FROM hub_connections h
              WHERE h.interaction_id = i.interaction_id
                AND h.instance_id NOT IN (SELECT instance_id FROM dead)
                AND (h.connection_id, h.interaction_id) NOT IN (SELECT connection_id, interaction_id FROM gone))
        """;

    /// <summary>
    /// Forgets instances that stopped heartbeating longer than <paramref name="deadAfter"/> ago, their connections,
    /// and connections older than that whose instance has no row; for an interaction that had no other connection,
    /// the disconnect grace starts now.
    /// </summary>
    public Task<int> PruneDeadInstancesAsync(TimeSpan deadAfter, CancellationToken cancellationToken) =>
        dataSource.ExecuteCountAsync(PruneSql, new { deadAfter }, cancellationToken);

    // One statement: an attach (which resets detached_since and update_time on the row) that commits first makes the
    // row fail the grace test when it is re-checked under its lock, so a re-attached interaction is never closed.
    // Only interactions without a connection have detached_since set (an index holds just those); oldest first and
    // bounded, so a crowd of abandoned interactions is worked off in turn. Each close notifies the delivery of every
    // instance, which ends the stream of a connection still attached somewhere with the closed notice.
    /// <summary>The channel each close by <see cref="CloseAbandonedAsync"/> notifies, with the interaction id as payload.</summary>
    public const string ClosedChannel = "interaction_closed";

    private const string CloseAbandonedSql = """
        UPDATE interactions i
        SET status = 'closed', message = 'closed', update_time = now(), run_owner = NULL, run_lease_until = NULL
        FROM (
            SELECT interaction_id FROM interactions
            WHERE detached_since IS NOT NULL AND status IN ('waiting', 'running') AND detached_since < now() - @grace
            ORDER BY detached_since
            LIMIT 1000
            FOR NO KEY UPDATE SKIP LOCKED) d
        WHERE i.interaction_id = d.interaction_id
          AND i.status IN ('waiting', 'running') AND NOT i.is_deleted
          AND i.detached_since < now() - @grace
          AND NOT EXISTS (
              SELECT 1 FROM hub_connections h JOIN hub_instances n USING (instance_id)
              WHERE h.interaction_id = i.interaction_id
                AND (h.instance_id = @self OR n.heartbeat_at > now() - @instanceTimeout))
        RETURNING i.interaction_id, pg_notify('interaction_closed', i.interaction_id)
        """;

    /// <summary>
    /// Closes the waiting or running interactions that have had no live connection for longer than
    /// <paramref name="grace"/>: a connection is live when it is on <paramref name="self"/> or on an instance whose
    /// heartbeat is younger than <paramref name="instanceTimeout"/>. Returns the ids it closed.
    /// </summary>
    public Task<IReadOnlyList<string>> CloseAbandonedAsync(string self, TimeSpan grace, TimeSpan instanceTimeout, CancellationToken cancellationToken) =>
        dataSource.QueryListAsync<string>(CloseAbandonedSql, new { self, grace, instanceTimeout }, cancellationToken);

    /// <summary>The statuses an interaction ends in: only those are ever pruned (waiting and running ones never are).</summary>
    private const string FinalStatuses = "('finished', 'failed', 'closed')";

    /// <summary>Raws one prune transaction deletes at most (plus those of its first interaction, however many).</summary>
    public const int PruneRawsPerBatch = 20_000;

    // One batch, one statement (so one transaction): the oldest finished interactions whose last change (a raw, the
    // close, an attach) is older than the cutoff and that no client on a registered hub instance is attached to, locked
    // (an attach running at once is skipped, and one committed first moved update_time past the cutoff), cut to about
    // PruneRawsPerBatch raws by their last_seq; then their connection rows (of instances that are gone), raws, workspace
    // file rows and the interactions. The foreign keys are checked at the end of the statement, when the rows naming the
    // interactions are gone.
    private const string PruneBatchSql = $"""
        WITH candidates AS (
            SELECT i.interaction_id, i.last_seq, i.update_time FROM interactions i
            WHERE i.status IN {FinalStatuses} AND i.update_time < now() - @olderThan
              AND NOT EXISTS (
                  SELECT 1 FROM hub_connections h JOIN hub_instances n USING (instance_id)
                  WHERE h.interaction_id = i.interaction_id)
            ORDER BY i.update_time, i.interaction_id
            LIMIT @batchSize
            FOR UPDATE OF i SKIP LOCKED),
        victims AS (
            SELECT interaction_id FROM (
                SELECT interaction_id,
                       sum(last_seq) OVER (ORDER BY update_time, interaction_id) - last_seq AS raws_before
                FROM candidates) c
            WHERE raws_before < @rawsPerBatch),
        c AS (DELETE FROM hub_connections h USING victims v WHERE h.interaction_id = v.interaction_id RETURNING 1),
        r AS (DELETE FROM raw USING victims v WHERE raw.interaction_id = v.interaction_id RETURNING 1),
        w AS (DELETE FROM workspace_files f USING victims v WHERE f.interaction_id = v.interaction_id RETURNING 1),
        i AS (DELETE FROM interactions x USING victims v WHERE x.interaction_id = v.interaction_id RETURNING 1)
        SELECT (SELECT count(*) FROM i)::int AS interactions, (SELECT count(*) FROM r) AS raws,
               (SELECT count(*) FROM w)::int AS workspace_files, 1 AS batches
        """;

    /// <summary>
    /// Deletes the interactions in a final status (finished, failed, closed) whose last change is older than
    /// <paramref name="olderThan"/>, with their raws, workspace file rows and connection rows, in batches of at most
    /// <paramref name="batchSize"/> interactions and about <see cref="PruneRawsPerBatch"/> raws, each its own transaction.
    /// Interactions a client is attached to are kept. The workspace contents the files named are left to
    /// <see cref="Workspace.WorkspaceRepository.DeleteUnreferencedAsync"/>. Returns what was deleted.
    /// </summary>
    public async Task<InteractionsPruned> PruneAsync(TimeSpan olderThan, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(olderThan, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var total = new InteractionsPruned(0, 0, 0, 0);
        while (true)
        {
            var batch = (await dataSource.QueryOneAsync<InteractionsPruned>(
                PruneBatchSql, new { olderThan, batchSize, rawsPerBatch = (long)PruneRawsPerBatch }, cancellationToken))!;
            if (batch.Interactions == 0)
            {
                return total;
            }

            total = new InteractionsPruned(
                total.Interactions + batch.Interactions, total.Raws + batch.Raws, total.WorkspaceFiles + batch.WorkspaceFiles, total.Batches + 1);
        }
    }

    // Any constant shared by every instance (and distinct from the migration lock): one automatic prune at a time.
    private const long PruneLockKey = 0x5265635072756e65; // "RecPrune"

    private const string TryLockSql = "SELECT pg_try_advisory_lock(@key)";
    private const string UnlockSql = "SELECT pg_advisory_unlock(@key)";

    /// <summary>
    /// Runs <paramref name="work"/> while this session holds the prune lock (a PostgreSQL advisory lock, released when
    /// the work ends or the session does); false, without running it, when another session holds the lock.
    /// </summary>
    public async Task<bool> TryWithPruneLockAsync(Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(TryLockSql, new { key = PruneLockKey }, cancellationToken: cancellationToken)))
        {
            return false;
        }

        try
        {
            await work(cancellationToken);
            return true;
        }
        finally
        {
            await connection.ExecuteScalarAsync<bool>(new CommandDefinition(UnlockSql, new { key = PruneLockKey }, cancellationToken: CancellationToken.None));
        }
    }
}
