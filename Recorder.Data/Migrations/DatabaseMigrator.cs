using System.Reflection;
using DbUp;
using DbUp.Engine.Output;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Recorder.Data.Migrations;

/// <summary>Applies the numbered embedded SQL scripts with DbUp, one instance at a time.</summary>
public static partial class DatabaseMigrator
{
    // Any constant shared by every instance: serialises concurrent start-ups of several hubs.
    private const long MigrationLockKey = 0x5265636f72646572; // "Recorder"

    private const string LockSql = "SELECT pg_advisory_lock(@key)";
    private const string UnlockSql = "SELECT pg_advisory_unlock(@key)";

    // DbUp's journal (its default table for PostgreSQL): one row per applied script, named like the embedded resource.
    private const string AppliedSql = """
        SELECT EXISTS (SELECT 1 FROM schemaversions WHERE scriptname = @script)
        """;

    /// <summary>The embedded script that sorts last (the scripts are numbered): the one a current schema has applied.</summary>
    public static string NewestScript { get; } = Assembly.GetExecutingAssembly().GetManifestResourceNames()
        .Where(name => name.EndsWith(".sql", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)
        .Last();

    /// <summary>Whether the database has applied <see cref="NewestScript"/>: false before the first migration too.</summary>
    public static async Task<bool> IsCurrentAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT to_regclass('schemaversions') IS NOT NULL");
        if (await command.ExecuteScalarAsync(cancellationToken) is not true)
        {
            return false;
        }

        await using var applied = dataSource.CreateCommand(AppliedSql);
        applied.Parameters.AddWithValue("script", NewestScript);
        return await applied.ExecuteScalarAsync(cancellationToken) is true;
    }

    public static async Task MigrateAsync(string connectionString, ILogger logger, CancellationToken cancellationToken)
    {
        await using var lockConnection = new NpgsqlConnection(connectionString);
        await lockConnection.OpenAsync(cancellationToken);
        await using (var take = new NpgsqlCommand(LockSql, lockConnection))
        {
            take.Parameters.AddWithValue("key", MigrationLockKey);
            await take.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var upgrader = DeployChanges.To
                .PostgresqlDatabase(connectionString)
                .WithScriptsEmbeddedInAssembly(Assembly.GetExecutingAssembly(), name => name.EndsWith(".sql", StringComparison.Ordinal))
                .WithTransactionPerScript()
                .LogTo(new UpgradeLog(logger))
                .Build();

            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
            {
                throw new InvalidOperationException(
                    $"Migration {result.ErrorScript?.Name ?? "(unknown)"} failed: {result.Error?.Message}", result.Error);
            }

            Log.Migrated(logger, result.Scripts.Count());
        }
        finally
        {
            await using var release = new NpgsqlCommand(UnlockSql, lockConnection);
            release.Parameters.AddWithValue("key", MigrationLockKey);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private sealed class UpgradeLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) => Log.DbUp(logger, LogLevel.Trace, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogDebug(string format, params object[] args) => Log.DbUp(logger, LogLevel.Debug, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogInformation(string format, params object[] args) => Log.DbUp(logger, LogLevel.Information, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogWarning(string format, params object[] args) => Log.DbUp(logger, LogLevel.Warning, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogError(string format, params object[] args) => Log.DbUp(logger, LogLevel.Error, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogError(Exception ex, string format, params object[] args) => Log.DbUpError(logger, ex, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Message = "DbUp: {Text}")]
        public static partial void DbUp(ILogger logger, LogLevel level, string text);

        [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "DbUp: {Text}")]
        public static partial void DbUpError(ILogger logger, Exception exception, string text);

        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Database is up to date ({Count} scripts applied now)")]
        public static partial void Migrated(ILogger logger, int count);
    }
}
