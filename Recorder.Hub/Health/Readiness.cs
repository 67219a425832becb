using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Recorder.Hub.Health;

/// <summary>
/// The last background run of the readiness checks (every <see cref="HealthOptions.ReadinessPeriod"/>): what a new
/// hub connection consults, so that a connect costs no check while the instance is ready. Ready until the first run
/// has reported; once a run found it not ready, each connect runs the checks again (so a recovered instance takes
/// connections at once, not a period later).
/// </summary>
public sealed class Readiness(IServiceProvider services) : IHealthCheckPublisher
{
    private volatile string? _notReady;
    private volatile IReadOnlySet<string> _failing = new HashSet<string>();

    /// <summary>Null when ready, else the failed checks: from the last run while ready, afresh while not.</summary>
    public async ValueTask<string?> NotReadyAsync(CancellationToken cancellationToken)
    {
        if (_notReady is null)
        {
            return null;
        }

        var report = await services.GetRequiredService<HealthCheckService>()
            .CheckHealthAsync(r => r.Tags.Contains(HealthExtensions.ReadyTag), cancellationToken);
        await PublishAsync(report, cancellationToken);
        return _notReady;
    }

    /// <summary>Whether the check named <paramref name="check"/> failed in the last run.</summary>
    public bool Fails(string check) => _failing.Contains(check);

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        _failing = report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        _notReady = report.Status == HealthStatus.Healthy ? null : Describe(report);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The failed checks' names, ", "-separated: what a refused client is told. Their descriptions name hosts and carry
    /// driver messages; they are for operators, in <c>/health/ready</c>.
    /// </summary>
    public static string Describe(HealthReport report) => string.Join(", ", report.Entries
        .Where(e => e.Value.Status != HealthStatus.Healthy)
        .Select(e => e.Key));
}
