using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Recorder.Hub.Health;

/// <summary>
/// The last background run of the readiness checks (every <see cref="HealthOptions.ReadinessPeriod"/>): what a new
/// hub connection consults, so that a connect costs no check while the instance is ready. Ready until the first run
/// has reported; once a run found it not ready, each connect runs the checks again (so a recovered instance takes
/// connections at once, not a period later). Runs overlap (the background one, <c>/health/ready</c>, a connect's): the
/// one that started last wins, so a slow run that began before a change cannot undo what a later run found.
/// </summary>
public sealed class Readiness(IServiceProvider services) : IHealthCheckPublisher
{
    private readonly Lock _gate = new();
    private volatile string? _notReady;
    private volatile IReadOnlySet<string> _failing = new HashSet<string>();
    private long _newestStart = long.MinValue;

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
        return report.Status == HealthStatus.Healthy ? null : Describe(report);
    }

    /// <summary>Whether the check named <paramref name="check"/> failed in the last run.</summary>
    public bool Fails(string check) => _failing.Contains(check);

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        var started = Stopwatch.GetTimestamp() - (long)(report.TotalDuration.TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            if (started < _newestStart)
            {
                return Task.CompletedTask; // a run that began before the one in effect: what it saw is older
            }

            _newestStart = started;
            _failing = report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
            _notReady = report.Status == HealthStatus.Healthy ? null : Describe(report);
        }

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
