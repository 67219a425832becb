using System.Collections.Concurrent;
using System.Diagnostics;
using Recorder.Client;

namespace Recorder.Bench;

/// <summary>Connecting and closing many <see cref="RecorderClient"/>s.</summary>
internal static class BenchClients
{
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Connects one client per options, <paramref name="parallelism"/> at a time; returns them in order with each connect's duration (ms).</summary>
    public static Task<(RecorderClient[] Clients, double[] ConnectMs)> ConnectAsync(
        IReadOnlyList<RecorderClientOptions> options, int parallelism, CancellationToken cancellationToken) =>
        ConnectManyAsync(options.Count, parallelism, (i, ct) => RecorderClient.ConnectAsync(options[i], ct), cancellationToken);

    /// <summary>
    /// Makes <paramref name="count"/> connections with <paramref name="connect"/>, <paramref name="parallelism"/> at a time; returns them in
    /// order with each connect's duration (ms). If any fails, the others are closed and the failures thrown.
    /// </summary>
    public static async Task<(T[] Clients, double[] ConnectMs)> ConnectManyAsync<T>(
        int count, int parallelism, Func<int, CancellationToken, Task<T>> connect, CancellationToken cancellationToken)
        where T : class, IAsyncDisposable
    {
        var clients = new T?[count];
        var times = new double[count];
        var failures = new ConcurrentQueue<Exception>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    clients[i] = await connect(i, ct);
                    times[i] = Units.ElapsedMs(start, Stopwatch.GetTimestamp());
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    failures.Enqueue(exception);
                }
            });

        if (!failures.IsEmpty)
        {
            await DisposeAllAsync(clients.OfType<T>());
            throw new AggregateException($"{failures.Count} of {count} clients failed to connect", failures);
        }

        return (clients.Select(c => c!).ToArray(), times);
    }

    /// <summary>Closes every client, each within 10 s.</summary>
    public static Task DisposeAllAsync<T>(IEnumerable<T> clients)
        where T : IAsyncDisposable =>
        Task.WhenAll(clients.Select(async client =>
        {
            try
            {
                await client.DisposeAsync().AsTask().WaitAsync(DisposeTimeout);
            }
            catch (TimeoutException)
            {
                await Console.Error.WriteLineAsync($"bench: client {(client as RecorderClient)?.InteractionId} did not close within {DisposeTimeout.TotalSeconds} s");
            }
        }));
}
