using System.Collections.Concurrent;
using System.Diagnostics;
using Recorder.Client;

namespace Recorder.Bench;

/// <summary>Connecting and closing many <see cref="RecorderClient"/>s.</summary>
internal static class BenchClients
{
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Connects one client per options, <paramref name="parallelism"/> at a time; returns them in order with each connect's duration (ms).</summary>
    public static async Task<(RecorderClient[] Clients, double[] ConnectMs)> ConnectAsync(
        IReadOnlyList<RecorderClientOptions> options, int parallelism, CancellationToken cancellationToken)
    {
        var clients = new RecorderClient?[options.Count];
        var times = new double[options.Count];
        var failures = new ConcurrentQueue<Exception>();
        await Parallel.ForEachAsync(Enumerable.Range(0, options.Count),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    clients[i] = await RecorderClient.ConnectAsync(options[i], ct);
                    times[i] = Units.ElapsedMs(start, Stopwatch.GetTimestamp());
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    failures.Enqueue(exception);
                }
            });

        if (!failures.IsEmpty)
        {
            await DisposeAllAsync(clients.OfType<RecorderClient>());
            throw new AggregateException($"{failures.Count} of {options.Count} clients failed to connect", failures);
        }

        return (clients.Select(c => c!).ToArray(), times);
    }

    /// <summary>Closes every client, each within 10 s.</summary>
    public static Task DisposeAllAsync(IEnumerable<RecorderClient> clients) =>
        Task.WhenAll(clients.Select(async client =>
        {
            try
            {
                await client.DisposeAsync().AsTask().WaitAsync(DisposeTimeout);
            }
            catch (TimeoutException)
            {
                await Console.Error.WriteLineAsync($"bench: client {client.InteractionId} did not close within {DisposeTimeout.TotalSeconds} s");
            }
        }));
}
