using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Npgsql;
using Recorder.Client.Contracts;
using Recorder.Data.Raws;
using Recorder.Hub.Hub;

namespace Recorder.Hub.Push;

/// <summary>
/// Pushes committed raws to their interaction's SignalR group, in seq order, and marks them sent afterwards.
/// Woken by PostgreSQL NOTIFY on insert (payload: the interaction id); a periodic sweep is the safety net.
/// Each interaction is pushed by one worker of one instance at a time (a partition here, an advisory lock
/// across instances).
/// </summary>
public sealed partial class RawPusher(
    NpgsqlDataSource dataSource,
    RawRepository raws,
    EnvelopeFactory envelopes,
    IHubContext<RecorderHub, IRecorderClient> hub,
    IOptions<PushOptions> options,
    ILogger<RawPusher> logger) : BackgroundService
{
    public const string Channel = "raw_inserted";
    private static readonly TimeSpan ListenerCheck = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan InitialListenBackoff = TimeSpan.FromMilliseconds(100);

    private readonly PushOptions _options = options.Value;
    private TimeSpan _listenBackoff = InitialListenBackoff;
    private readonly Partition[] _partitions = Enumerable.Range(0, options.Value.Workers).Select(_ => new Partition()).ToArray();

    /// <summary>Asks for the interaction's unsent raws to be pushed now.</summary>
    public void Schedule(string interactionId)
    {
        var partition = _partitions[(int)((uint)StringComparer.Ordinal.GetHashCode(interactionId) % (uint)_partitions.Length)];
        partition.Enqueue(interactionId);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var workers = _partitions.Select(p => WorkAsync(p, stoppingToken));
        return Task.WhenAll([ListenAsync(stoppingToken), SweepAsync(stoppingToken), .. workers]);
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                try
                {
                    await ListenOnAsync(connection, stoppingToken);
                }
                finally
                {
                    // The pool does not reset connections: leave none behind still listening.
                    await UnlistenQuietlyAsync(connection);
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                Log.ListenerFailed(logger, exception, _listenBackoff);
                await Task.Delay(_listenBackoff, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                _listenBackoff = TimeSpan.FromTicks(Math.Min(_listenBackoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private async Task ListenOnAsync(NpgsqlConnection connection, CancellationToken stoppingToken)
    {
        connection.Notification += (_, e) => Schedule(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        Log.Listening(logger);
        _listenBackoff = InitialListenBackoff;
        await SweepOnceAsync(stoppingToken); // what was committed while nobody listened
        while (true)
        {
            if (!await connection.WaitAsync(ListenerCheck, stoppingToken))
            {
                await using var check = new NpgsqlCommand("SELECT 1", connection);
                await check.ExecuteScalarAsync(stoppingToken);
            }
        }
    }

    private static async Task UnlistenQuietlyAsync(NpgsqlConnection connection)
    {
        if (connection.State != System.Data.ConnectionState.Open)
        {
            return;
        }

        try
        {
            await using var unlisten = new NpgsqlCommand("UNLISTEN *", connection);
            await unlisten.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // a broken connection is not returned to the pool anyway
        }
    }

    private async Task SweepAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.SweepInterval);
        while (await Ticks.NextAsync(timer, stoppingToken))
        {
            try
            {
                await SweepOnceAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                Log.SweepFailed(logger, exception);
            }
        }
    }

    private async Task SweepOnceAsync(CancellationToken stoppingToken)
    {
        foreach (var interactionId in await raws.ListInteractionsWithUnsentAsync(1000, stoppingToken))
        {
            Schedule(interactionId);
        }
    }

    private async Task WorkAsync(Partition partition, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var interactionId in partition.Reader.ReadAllAsync(stoppingToken))
            {
                partition.Taken(interactionId);
                try
                {
                    while (await raws.PushUnsentAsync(interactionId, _options.BatchSize, (rows, ct) => SendAsync(interactionId, rows, ct), stoppingToken)
                           == _options.BatchSize)
                    {
                    }
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // Nothing was marked sent; the sweep brings the interaction back.
                    Log.PushFailed(logger, exception, interactionId);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SendAsync(string interactionId, IReadOnlyList<RawRow> rows, CancellationToken cancellationToken)
    {
        var group = hub.Clients.Group(interactionId);
        foreach (var envelope in await envelopes.CreateAsync(interactionId, rows, cancellationToken))
        {
            await group.Message(envelope).WaitAsync(cancellationToken);
        }

        Log.Pushed(logger, interactionId, rows.Count, rows[^1].Seq);
    }

    /// <summary>A queue of interactions with at most one pending entry per interaction.</summary>
    private sealed class Partition
    {
        private readonly Channel<string> _queue = System.Threading.Channels.Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        private readonly HashSet<string> _pending = new(StringComparer.Ordinal);

        public ChannelReader<string> Reader => _queue.Reader;

        public void Enqueue(string interactionId)
        {
            lock (_pending)
            {
                if (!_pending.Add(interactionId))
                {
                    return;
                }
            }

            _queue.Writer.TryWrite(interactionId);
        }

        /// <summary>Called before the push starts, so that a notification arriving during the push queues another pass.</summary>
        public void Taken(string interactionId)
        {
            lock (_pending)
            {
                _pending.Remove(interactionId);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Listening for raw notifications")]
        public static partial void Listening(ILogger logger);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Raw notification listener failed; reconnecting in {Backoff}")]
        public static partial void ListenerFailed(ILogger logger, Exception exception, TimeSpan backoff);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Unsent-raw sweep failed")]
        public static partial void SweepFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Push of {InteractionId} failed; the sweep retries it")]
        public static partial void PushFailed(ILogger logger, Exception exception, string interactionId);

        [LoggerMessage(EventId = 3005, Level = LogLevel.Debug, Message = "Pushed {Count} raws of {InteractionId} up to seq {Seq}")]
        public static partial void Pushed(ILogger logger, string interactionId, int count, long seq);
    }
}
