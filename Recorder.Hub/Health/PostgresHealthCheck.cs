using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Recorder.Data.Migrations;

namespace Recorder.Hub.Health;

/// <summary>PostgreSQL answers and has applied the newest embedded migration (DbUp's journal; no user table is read).</summary>
public sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public const string Name = "postgresql";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await DatabaseMigrator.IsCurrentAsync(dataSource, cancellationToken)
                ? HealthCheckResult.Healthy($"reachable, migrated to {DatabaseMigrator.NewestScript}")
                : HealthCheckResult.Unhealthy($"reachable but {DatabaseMigrator.NewestScript} is not applied");
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested || exception is OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"unreachable: {exception.Message}");
        }
    }
}
