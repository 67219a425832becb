using Dapper;
using Npgsql;
using Recorder.Data.Resilience;

namespace Recorder.Data;

/// <summary>
/// One idempotent statement on a connection of its own, retried on transient failures (<see cref="DbRetry"/>).
/// Multi-statement work (transactions, appends with their own key) opens its connection itself.
/// </summary>
internal static class RetryingQueries
{
    public static Task<IReadOnlyList<T>> QueryListAsync<T>(this NpgsqlDataSource dataSource, string sql, object? args, CancellationToken cancellationToken) =>
        DbRetry.RunAsync<IReadOnlyList<T>>(async ct =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            return (await connection.QueryAsync<T>(new CommandDefinition(sql, args, cancellationToken: ct))).AsList();
        }, cancellationToken).AsTask();

    public static Task<T?> QueryOneAsync<T>(this NpgsqlDataSource dataSource, string sql, object? args, CancellationToken cancellationToken) =>
        DbRetry.RunAsync(async ct =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            return await connection.QuerySingleOrDefaultAsync<T>(new CommandDefinition(sql, args, cancellationToken: ct));
        }, cancellationToken).AsTask();

    public static Task<T?> ScalarAsync<T>(this NpgsqlDataSource dataSource, string sql, object? args, CancellationToken cancellationToken) =>
        DbRetry.RunAsync(async ct =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            return await connection.ExecuteScalarAsync<T>(new CommandDefinition(sql, args, cancellationToken: ct));
        }, cancellationToken).AsTask();

    /// <summary>Runs the statement; returns the number of rows it affected.</summary>
    public static Task<int> ExecuteCountAsync(this NpgsqlDataSource dataSource, string sql, object? args, CancellationToken cancellationToken) =>
        DbRetry.RunAsync(async ct =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            return await connection.ExecuteAsync(new CommandDefinition(sql, args, cancellationToken: ct));
        }, cancellationToken).AsTask();
}
