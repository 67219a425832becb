using Dapper;
using Npgsql;
using Recorder.Data.Resilience;

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

    private const string NamesSql = "SELECT name FROM workspace_files WHERE interaction_id = @interactionId ORDER BY name";

    public Task<IReadOnlyList<string>> ListNamesAsync(string interactionId, CancellationToken cancellationToken) =>
        dataSource.QueryListAsync<string>(NamesSql, new { interactionId }, cancellationToken);

    private const string ContentSql = """
        SELECT name, content FROM workspace_files WHERE interaction_id = @interactionId AND name = ANY(@names)
        """;

    /// <summary>The contents of the named files that exist.</summary>
    public Task<IReadOnlyDictionary<string, byte[]>> ReadAsync(string interactionId, IReadOnlyCollection<string> names, CancellationToken cancellationToken) =>
        DbRetry.RunAsync<IReadOnlyDictionary<string, byte[]>>(async ct =>
        {
            if (names.Count == 0)
            {
                return new Dictionary<string, byte[]>();
            }

            await using var connection = await dataSource.OpenConnectionAsync(ct);
            var rows = await connection.QueryAsync<(string Name, byte[] Content)>(
                new CommandDefinition(ContentSql, new { interactionId, names = names.ToArray() }, cancellationToken: ct));
            return rows.ToDictionary(r => r.Name, r => r.Content, StringComparer.Ordinal);
        }, cancellationToken).AsTask();

    private const string AllSql = "SELECT name, content FROM workspace_files WHERE interaction_id = @interactionId ORDER BY name";

    public Task<IReadOnlyList<(string Name, byte[] Content)>> ReadAllAsync(string interactionId, CancellationToken cancellationToken) =>
        dataSource.QueryListAsync<(string Name, byte[] Content)>(AllSql, new { interactionId }, cancellationToken);
}
