using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// One client of the fault soak: a <see cref="PlainClient"/> (no ordering or dedupe code) that follows its run to the
/// end, dropping its own connection at random moments (an exponential wait of mean <paramref name="dropEvery"/>) and
/// reconnecting to a random live hub whenever its connection is gone (dropped by itself or by a dying hub), each time
/// calling <c>Resume</c> with the last seq it saw. It retries a failed reconnect (the hub it picked died, PostgreSQL
/// is down) with a short backoff, for at most <see cref="ReconnectWindow"/>: a client that needs longer is a failure.
/// </summary>
internal sealed class SoakClient(PlainClient client, Func<Random, Uri> pickHub, Random random, TimeSpan dropEvery)
{
    public static readonly TimeSpan ReconnectWindow = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(15);
    private readonly TaskCompletionSource _hurry = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _refusals = [];
    private bool _skipped;

    public PlainClient Client => client;

    /// <summary>Connections this client dropped itself.</summary>
    public int Drops { get; private set; }

    /// <summary>Connections that closed under it (a killed hub; a hub that dropped it to be reconnected).</summary>
    public int Lost { get; private set; }

    /// <summary>Reconnect attempts that failed and were tried again.</summary>
    public int FailedAttempts { get; private set; }

    /// <summary>The texts of refusals met on reconnecting (a correct hub refuses none of them).</summary>
    public IReadOnlyList<string> Refusals => _refusals;

    /// <summary>The last reconnect failure, for a message.</summary>
    public string? LastFailure { get; private set; }

    /// <summary>Asks the run to skip to its end (speed 0), once, from whatever connection the client has next.</summary>
    public void Hurry() => _hurry.TrySetResult();

    /// <summary>Follows the run until its terminal raw, dropping and reconnecting as described above.</summary>
    public async Task FollowAsync(CancellationToken cancellationToken)
    {
        while (!client.Ended.IsCompleted)
        {
            if (_hurry.Task.IsCompleted && !_skipped)
            {
                await SkipToEndAsync(cancellationToken);
            }

            var closed = client.Closed;
            var drop = Task.Delay(NextDrop(), cancellationToken);
            Task[] waits = _skipped ? [client.Ended, closed, drop] : [client.Ended, closed, drop, _hurry.Task];
            var first = await Task.WhenAny(waits);
            cancellationToken.ThrowIfCancellationRequested();
            if (client.Ended.IsCompleted)
            {
                break;
            }

            if (first == _hurry.Task)
            {
                continue;
            }

            if (first == closed)
            {
                Lost++;
            }
            else
            {
                Drops++;
            }

            await ReconnectAsync(cancellationToken);
        }
    }

    private async Task SkipToEndAsync(CancellationToken cancellationToken)
    {
        try
        {
            await client.SkipToEndAsync(cancellationToken).WaitAsync(AttemptTimeout, cancellationToken);
            _skipped = true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LastFailure = $"SkipToEnd: {exception.Message}"; // the connection is going: asked again on the next one
        }
    }

    private async Task ReconnectAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + ReconnectWindow;
        for (var attempt = 1; ; attempt++)
        {
            var hub = pickHub(random);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(AttemptTimeout);
                await client.ReconnectAsync(hub, timeout.Token);
                return;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                FailedAttempts++;
                LastFailure = $"{hub}: {exception.GetType().Name}: {exception.Message}";
                if (exception is InvalidOperationException && exception.Message.StartsWith("refused: ", StringComparison.Ordinal))
                {
                    _refusals.Add(exception.Message);
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException(
                        $"client {client.InteractionId} could not reconnect within {ReconnectWindow} ({attempt} attempts); last: {LastFailure}", exception);
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 * attempt, 1000)), cancellationToken); // backoff between attempts
        }
    }

    /// <summary>An exponential wait of mean <c>dropEvery</c>, at least 200 ms.</summary>
    private TimeSpan NextDrop() =>
        TimeSpan.FromMilliseconds(Math.Max(200, -dropEvery.TotalMilliseconds * Math.Log(1 - random.NextDouble())));
}
