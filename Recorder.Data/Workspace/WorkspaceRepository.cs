using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Npgsql;
using Recorder.Data.Batching;
using Recorder.XAgent;

namespace Recorder.Data.Workspace;

/// <summary>
/// The files of an interaction's workspace, kept in PostgreSQL so that every hub instance sees them. Each distinct
/// content is stored once (<c>workspace_contents</c>, keyed by its SHA-256); an interaction's files name their content
/// by hash (<c>workspace_files</c>), so replays of the same recording share its bytes.
/// </summary>
public sealed class WorkspaceRepository
{
    /// <summary>Attempts of a store that lost a content to a concurrent prune before its file rows named it.</summary>
    private const int StoreAttempts = 3;

    /// <summary>Workspaces stored by one pair of statements at most.</summary>
    private const int StoresPerBatch = 32;

    private const string ExistingSql = "SELECT content_hash FROM workspace_contents WHERE content_hash = ANY(@hashes)";

    // The missing contents and the file rows in one statement: the foreign key of each file row is checked at the end
    // of the statement, when the contents inserted before it are there. A content deleted by a prune after the first
    // round trip fails that check (23503), and the store starts again.
    private const string InsertSql = """
        WITH c AS (
            INSERT INTO workspace_contents (content_hash, content, size)
            SELECT n.content_hash, n.content, octet_length(n.content)
            FROM unnest(@newHashes::bytea[], @newContents::bytea[]) AS n(content_hash, content)
            ON CONFLICT (content_hash) DO NOTHING)
        INSERT INTO workspace_files (interaction_id, name, content_hash)
        SELECT f.interaction_id, f.name, f.content_hash
        FROM unnest(@ids::text[], @names::text[], @hashes::bytea[]) AS f(interaction_id, name, content_hash)
        ON CONFLICT (interaction_id, name) DO UPDATE SET content_hash = EXCLUDED.content_hash
        """;

    // A recording's files are the same arrays for every replay of it while it is cached: each is hashed once.
    /// <summary>Contents remembered as stored at most; past it the memory starts again.</summary>
    private const int KnownCapacity = 100_000;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ConditionalWeakTable<byte[], byte[]> _hashes = new();
    private readonly Coalescer<Store, WorkspaceWrite> _stores;

    // Contents this repository stored or found stored: a store naming only those skips asking which are stored (one
    // round trip instead of two). A prune may have deleted one since; the file row's foreign key then fails and the
    // store asks after all.
    private readonly ConcurrentDictionary<string, bool> _known = new(StringComparer.Ordinal);

    public WorkspaceRepository(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
        _stores = new(StoreManyAsync, StoresPerBatch);
    }

    /// <summary>Stores the files (idempotent: a file of the same name is replaced).</summary>
    public Task AddAsync(string interactionId, IReadOnlyList<WorkspaceFile> files, CancellationToken cancellationToken) =>
        StoreAsync(interactionId, files, cancellationToken);

    /// <summary>
    /// Stores the files (idempotent: a file of the same name is replaced), sharing the round trips with the stores
    /// made at the same time (<see cref="Coalescer{TRequest, TResult}"/>): which of their contents are stored
    /// already (skipped when this repository knows them all), then the file rows with only the contents that were not.
    /// A workspace stored before (another replay of the same recording) sends no file bytes. The contents must not
    /// change after a store (their hashes are kept). Returns what was sent (a content two stores of one batch both
    /// need is counted for the first).
    /// </summary>
    public Task<WorkspaceWrite> StoreAsync(string interactionId, IReadOnlyList<WorkspaceFile> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0)
        {
            return Task.FromResult(new WorkspaceWrite(0, 0, 0));
        }

        var hashed = files.Select(f => new StoredFile(f.Name, f.Content, _hashes.GetValue(f.Content, SHA256.HashData))).ToList();
        return _stores.RunAsync(new Store(interactionId, hashed), cancellationToken);
    }

    private async Task<IReadOnlyList<WorkspaceWrite>> StoreManyAsync(IReadOnlyList<Store> stores, CancellationToken cancellationToken)
    {
        // One row per (interaction, name), the last store's file winning: a statement cannot update a row twice.
        var rows = new Dictionary<(string InteractionId, string Name), byte[]>();
        var distinct = new Dictionary<string, (byte[] Hash, byte[] Content, int Store)>(StringComparer.Ordinal);
        for (var i = 0; i < stores.Count; i++)
        {
            foreach (var file in stores[i].Files)
            {
                rows[(stores[i].InteractionId, file.Name)] = file.Hash;
                distinct.TryAdd(Convert.ToHexString(file.Hash), (file.Hash, file.Content, i));
            }
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var existing = attempt == 1 && distinct.Keys.All(_known.ContainsKey)
                    ? distinct.Keys.ToHashSet(StringComparer.Ordinal)
                    : (await _dataSource.QueryListAsync<byte[]>(
                            ExistingSql, new { hashes = distinct.Values.Select(d => d.Hash).ToArray() }, cancellationToken))
                        .Select(Convert.ToHexString).ToHashSet(StringComparer.Ordinal);
                var missing = distinct.Where(d => !existing.Contains(d.Key)).Select(d => d.Value).ToList();
                await _dataSource.ExecuteCountAsync(InsertSql, new
                {
                    ids = rows.Keys.Select(k => k.InteractionId).ToArray(),
                    names = rows.Keys.Select(k => k.Name).ToArray(),
                    hashes = rows.Values.ToArray(),
                    newHashes = missing.Select(m => m.Hash).ToArray(),
                    newContents = missing.Select(m => m.Content).ToArray(),
                }, cancellationToken);
                Remember(distinct.Keys);
                return [.. stores.Select((store, i) => new WorkspaceWrite(store.Files.Count,
                    missing.Count(m => m.Store == i), missing.Where(m => m.Store == i).Sum(m => (long)m.Content.Length)))];
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.ForeignKeyViolation
                                                      && exception.ConstraintName == "workspace_files_content_fkey"
                                                      && attempt < StoreAttempts)
            {
                // A content known or found stored was pruned before the file row named it: ask again.
                _known.Clear();
            }
        }
    }

    private void Remember(IEnumerable<string> hashes)
    {
        if (_known.Count > KnownCapacity)
        {
            _known.Clear();
        }

        foreach (var hash in hashes)
        {
            _known.TryAdd(hash, true);
        }
    }

    private sealed record StoredFile(string Name, byte[] Content, byte[] Hash);

    private sealed record Store(string InteractionId, IReadOnlyList<StoredFile> Files);

    private const string NamesSql = """
        SELECT interaction_id, name FROM workspace_files WHERE interaction_id = ANY(@ids) ORDER BY interaction_id, name
        """;

    /// <summary>The file names of each interaction's workspace (one query for all), by name within each.</summary>
    public async Task<ILookup<string, string>> ListNamesAsync(IReadOnlyCollection<string> interactionIds, CancellationToken cancellationToken) =>
        interactionIds.Count == 0
            ? Array.Empty<string>().ToLookup(n => n)
            : (await _dataSource.QueryListAsync<(string InteractionId, string Name)>(NamesSql, new { ids = interactionIds.ToArray() }, cancellationToken))
                .ToLookup(f => f.InteractionId, f => f.Name, StringComparer.Ordinal);

    private const string ContentSql = """
        SELECT w.interaction_id, w.name, c.content FROM workspace_files w
        JOIN unnest(@ids::text[], @names::text[]) AS f(interaction_id, name)
          ON w.interaction_id = f.interaction_id AND w.name = f.name
        JOIN workspace_contents c ON c.content_hash = w.content_hash
        """;

    /// <summary>The contents of the named files that exist, keyed by (interaction, name), in one query.</summary>
    public async Task<IReadOnlyDictionary<(string InteractionId, string Name), byte[]>> ReadAsync(
        IReadOnlyCollection<(string InteractionId, string Name)> files, CancellationToken cancellationToken)
    {
        if (files.Count == 0)
        {
            return new Dictionary<(string, string), byte[]>();
        }

        var rows = await _dataSource.QueryListAsync<(string InteractionId, string Name, byte[] Content)>(ContentSql, new
        {
            ids = files.Select(f => f.InteractionId).ToArray(),
            names = files.Select(f => f.Name).ToArray(),
        }, cancellationToken);
        return rows.ToDictionary(r => (r.InteractionId, r.Name), r => r.Content);
    }

    private const string AllSql = """
        SELECT w.name, c.content FROM workspace_files w
        JOIN workspace_contents c ON c.content_hash = w.content_hash
        WHERE w.interaction_id = @interactionId ORDER BY w.name
        """;

    public Task<IReadOnlyList<WorkspaceFile>> ReadAllAsync(string interactionId, CancellationToken cancellationToken) =>
        _dataSource.QueryListAsync<WorkspaceFile>(AllSql, new { interactionId }, cancellationToken);

    /// <summary>Attempts of one batch of <see cref="DeleteUnreferencedAsync"/> that a concurrent store made name a content again.</summary>
    private const int DeleteAttempts = 5;

    // Contents a store is naming right now are locked by its foreign-key check and skipped; one named by a store that
    // committed after this statement's snapshot fails the delete's own foreign-key check (23503): the batch is retried.
    private const string DeleteUnreferencedSql = """
        WITH d AS (
            DELETE FROM workspace_contents c
            WHERE c.content_hash IN (
                SELECT u.content_hash FROM workspace_contents u
                WHERE NOT EXISTS (SELECT 1 FROM workspace_files w WHERE w.content_hash = u.content_hash)
                LIMIT @batchSize
                FOR UPDATE SKIP LOCKED)
            RETURNING c.size)
        SELECT count(*)::int AS count, COALESCE(sum(size), 0)::bigint AS bytes FROM d
        """;

    /// <summary>
    /// Deletes the contents that no workspace file names any more, <paramref name="batchSize"/> per transaction.
    /// Returns how many and their bytes.
    /// </summary>
    public async Task<ContentsDeleted> DeleteUnreferencedAsync(int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var total = new ContentsDeleted(0, 0);
        for (var attempt = 1; ;)
        {
            ContentsDeleted batch;
            try
            {
                batch = (await _dataSource.QueryOneAsync<ContentsDeleted>(DeleteUnreferencedSql, new { batchSize }, cancellationToken))!;
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.ForeignKeyViolation && attempt < DeleteAttempts)
            {
                attempt++;
                continue;
            }

            total = new ContentsDeleted(total.Count + batch.Count, total.Bytes + batch.Bytes);
            if (batch.Count < batchSize)
            {
                return total;
            }

            attempt = 1;
        }
    }
}
