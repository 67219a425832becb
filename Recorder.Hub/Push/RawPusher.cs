using System.Collections.Concurrent;
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
/// Each interaction is pushed by one task of one instance at a time (<see cref="Schedule"/> here, an advisory
/// lock across instances); interactions are pushed in parallel, so a slow client holds up only its own.
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
    private const int Pushing = 1;
    private const int PushingAndAskedAgain = 2;

    // Interactions being pushed now; "asked again" means a notification came during the push: push once more.
    private readonly ConcurrentDictionary<string, int> _pushing = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots = new(options.Value.Workers);
    private CancellationToken _stopping = new(canceled: true);

    /// <summary>Asks for the interaction's unsent raws to be pushed now.</summary>
    public void Schedule(string interactionId)
    {
        while (!_stopping.IsCancellationRequested)
        {
            if (_pushing.TryAdd(interactionId, Pushing))
            {
                var stopping = _stopping;
                _ = Task.Run(() => PushAsync(interactionId, stopping), CancellationToken.None);
                return;
            }

            if (_pushing.TryUpdate(interactionId, PushingAndAskedAgain, Pushing)
                || (_pushing.TryGetValue(interactionId, out var state) && state == PushingAndAskedAgain))
            {
                return;
            }
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        return Task.WhenAll(ListenAsync(stoppingToken), SweepAsync(stoppingToken));
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

    private async Task PushAsync(string interactionId, CancellationToken stoppingToken)
    {
        try
        {
            do
            {
                // A slot per pass: a busy interaction queues behind the others between passes.
                await _slots.WaitAsync(stoppingToken);
                try
                {
                    _pushing[interactionId] = Pushing; // a notification from now on asks for another pass
                    while (await raws.PushUnsentAsync(interactionId, _options.BatchSize, (rows, ct) => SendAsync(interactionId, rows, ct), stoppingToken)
                           == _options.BatchSize)
                    {
                    }
                }
                finally
                {
                    _slots.Release();
                }
            }
            while (!_pushing.TryRemove(KeyValuePair.Create(interactionId, Pushing)));
        }
        catch (Exception exception)
        {
            if (!stoppingToken.IsCancellationRequested)
            {
                // Nothing unsent was marked sent; the sweep brings the interaction back.
                Log.PushFailed(logger, exception, interactionId);
            }

            _pushing.TryRemove(interactionId, out _);
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
