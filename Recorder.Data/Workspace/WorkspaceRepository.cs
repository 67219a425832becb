using Npgsql;

namespace Recorder.Data.Workspace;

/// <summary>The files of an interaction's workspace, kept in PostgreSQL so that every hub instance sees them.</summary>
public sealed class WorkspaceRepository(NpgsqlDataSource dataSource)
{
    private const string InsertSql = """
        INSERT INTO workspace_files (interaction_id, name, content)
        SELECT @interactionId, f.name, f.content FROM unnest(@names, @contents) AS f(name, content)
        ON CONFLICT (interaction_id, name) DO UPDATE SET content = EXCLUDED.content
        """;

    /// <summary>Stores the files (idempotent: a file of the same name is replaced).</summary>
    public Task AddAsync(string interactionId, IReadOnlyList<(string Name, byte[] Content)> files, CancellationToken cancellationToken)
    {
        if (files.Count == 0)
        {
            return Task.CompletedTask;
        }

        var names = files.Select(f => f.Name).ToArray();
        var contents = files.Select(f => f.Content).ToArray();
        return dataSource.ExecuteCountAsync(InsertSql, new { interactionId, names, contents }, cancellationToken);
    }

    private const string NamesSql = """
        SELECT interaction_id, name FROM workspace_files WHERE interaction_id = ANY(@ids) ORDER BY interaction_id, name
        """;

    /// <summary>The file names of each interaction's workspace (one query for all), by name within each.</summary>
    public async Task<ILookup<string, string>> ListNamesAsync(IReadOnlyCollection<string> interactionIds, CancellationToken cancellationToken) =>
        interactionIds.Count == 0
            ? Array.Empty<string>().ToLookup(n => n)
            : (await dataSource.QueryListAsync<(string InteractionId, string Name)>(NamesSql, new { ids = interactionIds.ToArray() }, cancellationToken))
                .ToLookup(f => f.InteractionId, f => f.Name, StringComparer.Ordinal);

    private const string ContentSql = """
        SELECT w.interaction_id, w.name, w.content FROM workspace_files w
        JOIN unnest(@ids::text[], @names::text[]) AS f(interaction_id, name)
          ON w.interaction_id = f.interaction_id AND w.name = f.name
        """;

    /// <summary>The contents of the named files that exist, keyed by (interaction, name), in one query.</summary>
    public async Task<IReadOnlyDictionary<(string InteractionId, string Name), byte[]>> ReadAsync(
        IReadOnlyCollection<(string InteractionId, string Name)> files, CancellationToken cancellationToken)
    {
        if (files.Count == 0)
        {
            return new Dictionary<(string, string), byte[]>();
        }

        var rows = await dataSource.QueryListAsync<(string InteractionId, string Name, byte[] Content)>(ContentSql, new
        {
            ids = files.Select(f => f.InteractionId).ToArray(),
            names = files.Select(f => f.Name).ToArray(),
        }, cancellationToken);
        return rows.ToDictionary(r => (r.InteractionId, r.Name), r => r.Content);
    }

    private const string AllSql = "SELECT name, content FROM workspace_files WHERE interaction_id = @interactionId ORDER BY name";

    public Task<IReadOnlyList<(string Name, byte[] Content)>> ReadAllAsync(string interactionId, CancellationToken cancellationToken) =>
        dataSource.QueryListAsync<(string Name, byte[] Content)>(AllSql, new { interactionId }, cancellationToken);
}
