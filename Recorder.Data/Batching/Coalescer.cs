using System.Collections.Concurrent;
using Npgsql;

namespace Recorder.Data.Batching;

/// <summary>
/// Turns concurrent single requests into batched calls: a request made while no call runs starts one with everything
/// queued, and requests that arrive meanwhile share the next call. There is no timer window: a lone request runs at
/// once, a crowd shares round trips. A batch the server refuses is tried again one request at a time, so a bad request
/// fails only itself.
/// </summary>
/// <param name="runBatch">Answers the requests, one result per request, in order.</param>
/// <param name="maxBatch">Requests per call at most; the rest wait for the next call.</param>
internal sealed class Coalescer<TRequest, TResult>(
    Func<IReadOnlyList<TRequest>, CancellationToken, Task<IReadOnlyList<TResult>>> runBatch, int maxBatch)
{
    private readonly ConcurrentQueue<Pending> _queue = new();
    private int _draining;

    /// <summary>The result of <paramref name="request"/>, from the next batched call.</summary>
    /// <remarks>
    /// Cancelling stops this caller's wait only: the call it is part of goes on for the others (its statements have
    /// the data source's command timeout).
    /// </remarks>
    public Task<TResult> RunAsync(TRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new Pending(request, new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        _queue.Enqueue(pending);
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            // The calls belong to no caller: they do not flow one caller's context (activity, culture) into the others'.
            using (ExecutionContext.SuppressFlow())
            {
                _ = Task.Run(DrainAsync, CancellationToken.None);
            }
        }

        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task DrainAsync()
    {
        var batch = new List<Pending>(maxBatch);
        while (true)
        {
            batch.Clear();
            while (batch.Count < maxBatch && _queue.TryDequeue(out var next))
            {
                batch.Add(next);
            }

            if (batch.Count > 0)
            {
                await AnswerAsync(batch);
                continue;
            }

            // Nothing queued: stop, unless a request came between the last look and giving up the turn.
            Volatile.Write(ref _draining, 0);
            if (_queue.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private async Task AnswerAsync(List<Pending> batch)
    {
        try
        {
            var results = await runBatch([.. batch.Select(p => p.Request)], CancellationToken.None);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(results[i]);
            }
        }
        catch (PostgresException) when (batch.Count > 1)
        {
            // The server refused the statement: one request may be at fault, so each is answered on its own. (An
            // outage fails them all at once: DbRetry has already retried it.)
            foreach (var pending in batch)
            {
                await AnswerAsync([pending]);
            }
        }
        catch (Exception exception)
        {
            // The connection or the server failed (after DbRetry's retries): every request of the call fails with it.
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(exception);
            }
        }
    }

    private sealed record Pending(TRequest Request, TaskCompletionSource<TResult> Done);
}
