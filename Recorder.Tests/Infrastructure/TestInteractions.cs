using Dapper;
using Npgsql;
using Recorder.Data.Users;

namespace Recorder.Tests.Infrastructure;

/// <summary>Interactions the data tests start from, inserted as plain rows (the hub creates them with its connect statement).</summary>
public static class TestInteractions
{
    private const string InsertSql = """
        INSERT INTO interactions (interaction_id, user_id, status, recorder_dir)
        VALUES (@interactionId, @userId, 'waiting', 'test')
        """;

    /// <summary>A waiting interaction of <paramref name="userId"/> with no connection attached.</summary>
    public static async Task InsertWaitingAsync(NpgsqlDataSource dataSource, string interactionId, string userId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        Assert.Equal(1, await connection.ExecuteAsync(new CommandDefinition(InsertSql, new { interactionId, userId }, cancellationToken: cancellationToken)));
    }

    /// <summary><paramref name="count"/> waiting interactions of one new user; their ids.</summary>
    public static async Task<IReadOnlyList<string>> InsertWaitingAsync(NpgsqlDataSource dataSource, int count, CancellationToken cancellationToken)
    {
        var userId = $"u{Guid.NewGuid():N}";
        await new UserRepository(dataSource).UpsertAsync(userId, "token-of-the-test", "", "", true, true, cancellationToken);
        var ids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid().ToString("N")).ToList();
        foreach (var id in ids)
        {
            await InsertWaitingAsync(dataSource, id, userId, cancellationToken);
        }

        return ids;
    }
}
