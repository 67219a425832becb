using Npgsql;
using Polly;
using Polly.Retry;

namespace Recorder.Data.Resilience;

/// <summary>
/// Retries of idempotent database work on transient Npgsql failures (connection lost, server restart,
/// serialization failure). Never wrap non-idempotent work in it unless it carries its own key.
/// </summary>
public static class DbRetry
{
    public static ResiliencePipeline Pipeline { get; } = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(e => e.IsTransient),
            MaxRetryAttempts = 6,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromSeconds(3),
        })
        .Build();

    public static ValueTask<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken) =>
        Pipeline.ExecuteAsync(work, cancellationToken);

    public static ValueTask RunAsync(Func<CancellationToken, ValueTask> work, CancellationToken cancellationToken) =>
        Pipeline.ExecuteAsync(work, cancellationToken);
}
