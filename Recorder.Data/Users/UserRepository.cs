using Npgsql;

namespace Recorder.Data.Users;

public sealed class UserRepository(NpgsqlDataSource dataSource)
{
    private const string FindSql = """
        SELECT user_id, token_hash, available, is_beta, deleted
        FROM users WHERE user_id = @userId
        """;

    public Task<UserRow?> FindAsync(string userId, CancellationToken cancellationToken) =>
        dataSource.QueryOneAsync<UserRow>(FindSql, new { userId }, cancellationToken);

    private const string UpsertSql = """
        INSERT INTO users (user_id, email, name, token_hash, available, is_beta)
        VALUES (@userId, @email, @name, @tokenHash, @available, @isBeta)
        ON CONFLICT (user_id) DO UPDATE SET
            token_hash = EXCLUDED.token_hash, email = EXCLUDED.email, name = EXCLUDED.name,
            available = EXCLUDED.available, is_beta = EXCLUDED.is_beta, deleted = false, update_time = now()
        RETURNING (xmax = 0) AS inserted
        """;

    /// <summary>Creates the user, or replaces the token and flags of an existing one. Returns true when created.</summary>
    public Task<bool> UpsertAsync(string userId, string token, string email, string name, bool available, bool isBeta, CancellationToken cancellationToken)
    {
        var tokenHash = TokenHash.Compute(token);
        return dataSource.ScalarAsync<bool>(UpsertSql, new { userId, email, name, tokenHash, available, isBeta }, cancellationToken);
    }
}
