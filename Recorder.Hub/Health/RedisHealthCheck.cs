using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Recorder.Hub.Health;

/// <summary>
/// The Redis of <c>ConnectionStrings:Redis</c> answers a PING, over a connection of this check's own (opened on first
/// use, reconnecting by itself): registered only when the backplane is configured.
/// </summary>
public sealed class RedisHealthCheck(string connectionString) : IHealthCheck, IAsyncDisposable
{
    public const string Name = "redis";

    private readonly Lock _lock = new();
    private Task<ConnectionMultiplexer>? _connect;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await ConnectAsync(cancellationToken);
            if (!connection.IsConnected)
            {
                return HealthCheckResult.Unhealthy("not connected");
            }

            var latency = await connection.GetDatabase().PingAsync().WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy($"connected, ping {latency.TotalMilliseconds:0.#} ms");
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested || exception is OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"unreachable: {exception.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connect is { IsCompletedSuccessfully: true } connect)
        {
            await connect.Result.DisposeAsync();
        }
    }

    private Task<ConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_connect is null or { IsFaulted: true })
            {
                var options = ConfigurationOptions.Parse(connectionString);
                options.AbortOnConnectFail = false; // keep trying in the background; IsConnected says how it goes
                _connect = ConnectionMultiplexer.ConnectAsync(options);
            }

            return _connect.WaitAsync(cancellationToken);
        }
    }
}
