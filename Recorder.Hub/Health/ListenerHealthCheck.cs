using Microsoft.Extensions.Diagnostics.HealthChecks;
using Recorder.Hub.Delivery;

namespace Recorder.Hub.Health;

/// <summary>The delivery service listens for PostgreSQL's notifications of committed raws (its state, no query).</summary>
public sealed class ListenerHealthCheck(NotifyListener listener) : IHealthCheck
{
    public const string Name = "notify_listener";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(listener.Failure is { } failure
            ? HealthCheckResult.Unhealthy($"not listening: {failure}")
            : HealthCheckResult.Healthy("listening"));
}
