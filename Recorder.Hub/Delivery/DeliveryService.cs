using System.Globalization;
using Microsoft.Extensions.Options;
using Npgsql;
using Recorder.Client.Contracts;
using Recorder.Data;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;
using Recorder.Data.Workspace;
using Recorder.Hub.Metrics;
using Recorder.Hub.Playback;

namespace Recorder.Hub.Delivery;

/// <summary>
/// Feeds this instance's <see cref="Subscriptions"/> from PostgreSQL: listens for committed raws and closed
/// interactions, reads what the subscriptions lack (one query for all of them per pass), builds the envelopes and hands
/// them over. A sweep every <see cref="DeliveryOptions.SweepInterval"/> re-reads the state of every followed
/// interaction, in case a notification was missed, and closes slow consumers.
/// </summary>
public sealed partial class DeliveryService(
    [FromKeyedServices(RecorderDataExtensions.ListenerDataSource)] NpgsqlDataSource listenerSource,
    RawRepository raws,
    InteractionRepository interactions,
    WorkspaceRepository workspace,
    RawEnvelopes envelopes,
    Subscriptions subscriptions,
    PlaybackSignals playbackSignals,
    NotifyListener listener,
    IOptions<DeliveryOptions> options,
    ILogger<DeliveryService> logger) : BackgroundService
{
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);
    private readonly DeliveryOptions _options = options.Value;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(ListenAsync(stoppingToken), SweepAsync(stoppingToken), DeliverAsync(stoppingToken));

    private async Task DeliverAsync(CancellationToken stoppingToken)
    {
        var backoff = InitialBackoff;
        await foreach (var _ in subscriptions.Wake.ReadAllAsync(stoppingToken))
        {
            try
            {
                while (await PassAsync(stoppingToken))
                {
                }

                backoff = InitialBackoff;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                Log.PassFailed(logger, exception, backoff);
                await Task.Delay(backoff, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                subscriptions.MarkAllStale();
            }
        }
    }

    /// <summary>One pass: states first (what was committed or closed), then one read for every feed behind. False when idle.</summary>
    private async Task<bool> PassAsync(CancellationToken cancellationToken)
    {
        var stale = subscriptions.TakeStale();
        if (stale.Count > 0)
        {
            var closed = subscriptions.ApplyStates(await interactions.ListStatesAsync(stale, cancellationToken));
            foreach (var interactionId in closed)
            {
                if (await interactions.FindAsync(interactionId, cancellationToken) is { } row)
                {
                    subscriptions.SetClosed(row);
                }
            }
        }

        var reads = subscriptions.TakeReads();
        if (reads.Count == 0)
        {
            return stale.Count > 0;
        }

        try
        {
            await ReadAndDistributeAsync(reads, cancellationToken);
        }
        catch
        {
            subscriptions.Retry(reads);
            throw;
        }

        return true;
    }

    private async Task ReadAndDistributeAsync(IReadOnlyList<FeedRead> reads, CancellationToken cancellationToken)
    {
        using var activity = RecorderMetrics.Activities.StartActivity("delivery batch");
        activity?.SetTag("recorder.feeds", reads.Count);
        var rows = await raws.ListAfterAsync([.. reads.Select(r => new RawCursor(r.Feed.InteractionId, r.AfterSeq, r.Limit))], _options.PageSize, cancellationToken);
        var byInteraction = rows.ToLookup(r => r.InteractionId, StringComparer.Ordinal);

        // The feed's file list is read once (the workspace is complete before its first raw); pictures per page.
        var withoutList = reads.Where(r => r.Feed.FileList is null && byInteraction.Contains(r.Feed.InteractionId))
            .Select(r => r.Feed.InteractionId).ToHashSet(StringComparer.Ordinal);
        var names = await workspace.ListNamesAsync(withoutList, cancellationToken);
        var parsed = rows.ToDictionary(r => r, RawEnvelopes.Parse);
        var pictures = await envelopes.PicturesAsync(
            [.. parsed.SelectMany(p => p.Value.PictureNames.Select(name => (p.Key.InteractionId, name))).Distinct()], cancellationToken);

        foreach (var read in reads)
        {
            var fileList = read.Feed.FileList ?? EnvelopeFactory.FileList(names[read.Feed.InteractionId]);
            if (withoutList.Contains(read.Feed.InteractionId))
            {
                read.Feed.FileList = fileList;
            }

            // Cut by bytes: at most PageBytes of envelopes (at least one) per page; a cut page is read on from there.
            var page = new List<(RawRow Row, RecorderEnvelope Envelope, long Bytes)>();
            var pageBytes = 0L;
            var rowsRead = 0;
            foreach (var row in byInteraction[read.Feed.InteractionId])
            {
                rowsRead++;
                var own = RawEnvelopes.OwnPictures(row, parsed[row], pictures);
                var bytes = (row.DataJson?.Length ?? 0) + own.Values.Sum(p => p.InlinedBytes);
                if (page.Count > 0 && pageBytes + bytes > _options.PageBytes)
                {
                    break;
                }

                pageBytes += bytes;
                page.Add((row, envelopes.Envelope(row, parsed[row], fileList, own), bytes));
            }

            subscriptions.Distribute(page.Count < rowsRead ? read with { Limit = page.Count } : read, page);
            if (page.Count > 0)
            {
                Log.Delivered(logger, read.Feed.InteractionId, page.Count, page[^1].Row.Seq);
            }
        }
    }

    private async Task SweepAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.SweepInterval);
        while (await Ticks.NextAsync(timer, stoppingToken))
        {
            subscriptions.MarkStale(_options.SweepBatch);
            subscriptions.CloseSlowConsumers();
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        var backoff = InitialBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await listenerSource.OpenConnectionAsync(stoppingToken);
                try
                {
                    connection.Notification += (_, e) => OnNotification(e.Channel, e.Payload);
                    await using (var listen = new NpgsqlCommand($"LISTEN {RawRepository.CommittedChannel}; LISTEN {InteractionRepository.ClosedChannel}; LISTEN {InteractionRepository.ControlChannel}", connection))
                    {
                        await listen.ExecuteNonQueryAsync(stoppingToken);
                    }

                    Log.Listening(logger);
                    listener.Listening();
                    backoff = InitialBackoff;
                    subscriptions.MarkAllStale(); // what was committed while nobody listened
                    while (true)
                    {
                        // A dead connection fails Npgsql's keepalive (RecorderDataExtensions.ListenerKeepAlive), and so this wait.
                        await connection.WaitAsync(stoppingToken);
                    }
                }
                finally
                {
                    // The pool does not reset connections: leave none behind still listening.
                    await UnlistenQuietlyAsync(connection);
                }
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                listener.Down(exception.Message);
                Log.ListenerFailed(logger, exception, backoff);
                await Task.Delay(backoff, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }

        listener.Down("stopped");
    }

    /// <summary><c>raw_committed</c>: "id:last_seq,id:last_seq,..."; <c>interaction_closed</c>, <c>interaction_control</c>: the id.</summary>
    private void OnNotification(string channel, string payload)
    {
        if (channel == InteractionRepository.ControlChannel)
        {
            // The run (if it runs here) applies the change; the connections here get the control envelope.
            playbackSignals.Wake(payload);
            subscriptions.OnChanged(payload);
            return;
        }

        if (channel == InteractionRepository.ClosedChannel)
        {
            subscriptions.OnChanged(payload);
            return;
        }

        foreach (var pair in payload.Split(','))
        {
            var colon = pair.LastIndexOf(':');
            if (colon > 0 && long.TryParse(pair.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var lastSeq))
            {
                subscriptions.OnCommitted(pair[..colon], lastSeq);
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Listening for committed raws and closed interactions")]
        public static partial void Listening(ILogger logger);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Delivery listener failed; reconnecting in {Backoff}")]
        public static partial void ListenerFailed(ILogger logger, Exception exception, TimeSpan backoff);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Delivery pass failed; retrying in {Backoff}")]
        public static partial void PassFailed(ILogger logger, Exception exception, TimeSpan backoff);

        [LoggerMessage(EventId = 3005, Level = LogLevel.Debug, Message = "Queued {Count} raws of {InteractionId} up to seq {Seq}")]
        public static partial void Delivered(ILogger logger, string interactionId, int count, long seq);
    }
}
