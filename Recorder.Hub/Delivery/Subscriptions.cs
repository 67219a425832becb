using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Recorder.Client.Contracts;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;
using Recorder.Hub.Metrics;

namespace Recorder.Hub.Delivery;

/// <summary>
/// The catch-up subscriptions of this instance's connections. Each subscription has a cursor (the last seq queued
/// for its connection); <see cref="DeliveryService"/> reads what the cursors lack from PostgreSQL, for all of them
/// in one query, and <see cref="Distribute"/> queues each raw to each connection exactly once, in seq order. Each
/// connection has its own bounded outbox and drain task, so a connection that stops reading delays nobody else.
/// </summary>
public sealed partial class Subscriptions(IOptions<DeliveryOptions> options, SentMarks sentMarks, RecorderMetrics metrics, ILogger<Subscriptions> logger)
{
    /// <summary>Interactions read per pass at most: a reconnect storm is worked off in turns, each a bounded query.</summary>
    private const int MaxFeedsPerPass = 512;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, ConnectionOutbox> _outboxes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, InteractionFeed> _feeds = new(StringComparer.Ordinal);
    private readonly HashSet<InteractionFeed> _dirty = [];
    private readonly HashSet<string> _stale = new(StringComparer.Ordinal);
    private readonly Queue<string> _sweepOrder = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly DeliveryOptions _options = options.Value;

    /// <summary>Signalled when there is something to read or deliver.</summary>
    internal ChannelReader<bool> Wake => _wake.Reader;

    /// <summary>Envelopes queued to connections and not yet written.</summary>
    public int Queued
    {
        get
        {
            lock (_gate)
            {
                return _outboxes.Values.Sum(o => o.Queue.Count);
            }
        }
    }

    /// <summary>Subscriptions that lack raws already committed (for the metrics; walks every subscription).</summary>
    public int Behind
    {
        get
        {
            lock (_gate)
            {
                return _outboxes.Values.Sum(o => o.Subscriptions.Count(s => s.IsBehind));
            }
        }
    }

    /// <summary>Bytes queued to connections and not yet written.</summary>
    public long QueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _outboxes.Values.Sum(o => o.QueuedBytes);
            }
        }
    }

    /// <summary>
    /// Registers a connection: <paramref name="writer"/> writes to it (one call at a time), <paramref name="abort"/>
    /// resets its transport, <paramref name="aborted"/> is cancelled when it is gone.
    /// </summary>
    public void Open(string connectionId, IRecorderClient writer, Action abort, CancellationToken aborted)
    {
        lock (_gate)
        {
            _outboxes.TryAdd(connectionId, new ConnectionOutbox(connectionId, writer, abort, aborted));
        }
    }

    /// <summary>Forgets the connection and its subscriptions; nothing more is written to it.</summary>
    public void Close(string connectionId)
    {
        lock (_gate)
        {
            if (!_outboxes.Remove(connectionId, out var outbox))
            {
                return;
            }

            outbox.Closed = true;
            outbox.Queue.Clear();
            outbox.QueuedBytes = 0;
            foreach (var subscription in outbox.Subscriptions)
            {
                var feed = subscription.Feed;
                feed.Subscribers.Remove(subscription);
                if (feed.Subscribers.Count == 0)
                {
                    _feeds.Remove(feed.InteractionId);
                    _dirty.Remove(feed);
                    _stale.Remove(feed.InteractionId);
                }
            }

            outbox.Subscriptions.Clear();
        }
    }

    /// <summary>
    /// Subscribes the connection to the interaction, or moves its cursor there: from now on the connection gets
    /// exactly the raws with <c>seq &gt; afterSeq</c>, each once, in seq order, then the live ones. Whatever was
    /// queued for that interaction before is dropped; an envelope being written finishes first.
    /// </summary>
    public async Task SubscribeAsync(string connectionId, string interactionId, long afterSeq, CancellationToken cancellationToken)
    {
        ConnectionOutbox? outbox;
        lock (_gate)
        {
            if (!_outboxes.TryGetValue(connectionId, out outbox))
            {
                throw new InvalidOperationException($"Connection {connectionId} is not open.");
            }
        }

        await outbox.SendLock.WaitAsync(cancellationToken);
        try
        {
            lock (_gate)
            {
                if (outbox.Closed)
                {
                    return;
                }

                var subscription = outbox.Subscriptions.Find(s => s.Feed.InteractionId == interactionId);
                if (subscription is null)
                {
                    if (!_feeds.TryGetValue(interactionId, out var feed))
                    {
                        feed = new InteractionFeed(interactionId);
                        _feeds.Add(interactionId, feed);
                        _stale.Add(interactionId);
                    }

                    subscription = new Subscription(outbox, feed);
                    feed.Subscribers.Add(subscription);
                    outbox.Subscriptions.Add(subscription);
                }

                subscription.Generation++;
                subscription.Cursor = afterSeq;
                subscription.ClosedNoticeQueued = false;
                subscription.ControlVersionQueued = 0;
                if (outbox.Queue.Any(i => i.Subscription == subscription))
                {
                    var kept = outbox.Queue.Where(i => i.Subscription != subscription).ToList();
                    outbox.Queue.Clear();
                    kept.ForEach(outbox.Queue.Enqueue);
                    outbox.QueuedBytes = kept.Sum(i => i.Bytes);
                }

                subscription.Feed.ForceRead = true;
                _dirty.Add(subscription.Feed);
            }
        }
        finally
        {
            outbox.SendLock.Release();
        }

        Signal();
    }

    /// <summary>A transaction committed raws of the interaction up to <paramref name="lastSeq"/>.</summary>
    public void OnCommitted(string interactionId, long lastSeq)
    {
        lock (_gate)
        {
            if (!_feeds.TryGetValue(interactionId, out var feed) || lastSeq <= feed.KnownLastSeq)
            {
                return;
            }

            feed.KnownLastSeq = lastSeq;
            _dirty.Add(feed);
        }

        Signal();
    }

    /// <summary>The interaction's state changed (it was closed): read it again.</summary>
    public void OnChanged(string interactionId)
    {
        lock (_gate)
        {
            if (!_feeds.ContainsKey(interactionId) || !_stale.Add(interactionId))
            {
                return;
            }
        }

        Signal();
    }

    /// <summary>Read the state of every followed interaction that can still change (after a failure or a lost listener).</summary>
    public void MarkAllStale() => MarkStale(int.MaxValue);

    /// <summary>
    /// The safety net's tick: read the state of the next <paramref name="max"/> followed interactions that can still
    /// change, in turn (a full round over many interactions takes several ticks, so its cost per tick stays bounded);
    /// feeds whose subscribers are behind are read again in any case.
    /// </summary>
    public void MarkStale(int max)
    {
        lock (_gate)
        {
            if (max == int.MaxValue)
            {
                _sweepOrder.Clear();
            }

            if (_sweepOrder.Count == 0)
            {
                foreach (var feed in _feeds.Values)
                {
                    _sweepOrder.Enqueue(feed.InteractionId);
                }
            }

            for (var marked = 0; marked < max && _sweepOrder.TryDequeue(out var interactionId);)
            {
                if (_feeds.TryGetValue(interactionId, out var feed) && !feed.Ended)
                {
                    _stale.Add(interactionId);
                    marked++;
                }
            }

            foreach (var feed in _feeds.Values)
            {
                if (feed.Subscribers.Exists(s => s.IsBehind))
                {
                    _dirty.Add(feed);
                }
            }
        }

        Signal();
    }

    /// <summary>Closes every connection that has had envelopes waiting for longer than the slow-consumer timeout.</summary>
    public void CloseSlowConsumers()
    {
        var limit = (long)_options.SlowConsumerTimeout.TotalMilliseconds;
        var now = Environment.TickCount64;
        List<ConnectionOutbox> slow;
        lock (_gate)
        {
            slow = [.. _outboxes.Values.Where(o => o.Draining && now - o.LastProgress > limit)];
        }

        foreach (var outbox in slow)
        {
            Log.SlowConsumer(logger, outbox.ConnectionId, _options.SlowConsumerTimeout);
            outbox.Abort();
        }
    }

    /// <summary>How this instance follows the interaction, in a line (for a failure message).</summary>
    internal string Describe(string interactionId)
    {
        lock (_gate)
        {
            if (!_feeds.TryGetValue(interactionId, out var feed))
            {
                return $"no feed of {interactionId}";
            }

            return $"feed of {interactionId}: known last seq {feed.KnownLastSeq}, ended {feed.Ended}, closed row {(feed.Closed is null ? "none" : feed.Closed.LastSeq)}, " +
                   $"stale {_stale.Contains(interactionId)}, dirty {_dirty.Contains(feed)}; subscribers: " +
                   string.Join(", ", feed.Subscribers.Select(s => $"{s.Outbox.ConnectionId} cursor {s.Cursor} notice queued {s.ClosedNoticeQueued} " +
                                                                 $"queue {s.Outbox.Queue.Count} draining {s.Outbox.Draining} wants room {s.Outbox.WantsRoom}"));
        }
    }

    /// <summary>The interactions whose state must be read (and forgets them).</summary>
    internal IReadOnlyList<string> TakeStale()
    {
        lock (_gate)
        {
            if (_stale.Count == 0)
            {
                return [];
            }

            var stale = _stale.ToList();
            _stale.Clear();
            return stale;
        }
    }

    /// <summary>Applies the states read; returns the interactions newly seen closed (their rows are wanted for the notice).</summary>
    internal IReadOnlyList<string> ApplyStates(IReadOnlyList<InteractionState> states)
    {
        List<string> closed = [];
        lock (_gate)
        {
            foreach (var state in states)
            {
                if (!_feeds.TryGetValue(state.InteractionId, out var feed))
                {
                    continue;
                }

                if (state.LastSeq > feed.KnownLastSeq)
                {
                    feed.KnownLastSeq = state.LastSeq;
                    _dirty.Add(feed);
                }

                if (state.ControlVersion > (feed.Control?.ControlVersion ?? 0))
                {
                    feed.Control = state;
                    _dirty.Add(feed);
                }

                // A closed interaction ends its feed only once its row is in (SetClosed): should reading the row fail,
                // the feed stays in the sweep, which reads its state again, instead of never giving the closed notice.
                feed.Ended = feed.Closed is not null || state.Status is RecorderStatus.Finished or RecorderStatus.Failed;
                if (state.Status == RecorderStatus.Closed && feed.Closed is null)
                {
                    closed.Add(state.InteractionId);
                }
            }
        }

        return closed;
    }

    /// <summary>The interaction was closed: its subscribers get the closed notice after its last raw.</summary>
    internal void SetClosed(InteractionRow interaction)
    {
        lock (_gate)
        {
            if (_feeds.TryGetValue(interaction.InteractionId, out var feed))
            {
                feed.Closed = interaction;
                feed.Ended = true;
                feed.KnownLastSeq = Math.Max(feed.KnownLastSeq, interaction.LastSeq);
                _dirty.Add(feed);
            }
        }

        Signal();
    }

    /// <summary>
    /// What the next pass reads: for each interaction with a subscription behind that has room, the raws after the
    /// lowest such cursor. Feeds past <see cref="MaxFeedsPerPass"/> wait for the next pass.
    /// </summary>
    internal IReadOnlyList<FeedRead> TakeReads()
    {
        List<FeedRead> reads = [];
        bool more;
        lock (_gate)
        {
            foreach (var feed in _dirty.ToList())
            {
                if (reads.Count == MaxFeedsPerPass)
                {
                    break;
                }

                _dirty.Remove(feed);
                long? after = null;
                var room = 1;
                foreach (var subscription in feed.Subscribers)
                {
                    if (!subscription.Outbox.WantsRoom && (feed.ForceRead || subscription.Cursor < feed.KnownLastSeq))
                    {
                        after = Math.Min(after ?? long.MaxValue, subscription.Cursor);
                        room = Math.Max(room, _options.OutboxCapacity - subscription.Outbox.Queue.Count);
                    }
                }

                feed.ForceRead = false;
                if (after is { } afterSeq)
                {
                    reads.Add(new FeedRead(feed, afterSeq, Math.Min(room, _options.PageSize)));
                }
                else
                {
                    QueueControlNotices(feed);
                    QueueClosedNotices(feed);
                }
            }

            more = _dirty.Count > 0;
        }

        if (more)
        {
            Signal();
        }

        return reads;
    }

    /// <summary>A pass failed: its interactions are read again by the next one.</summary>
    internal void Retry(IReadOnlyList<FeedRead> reads)
    {
        lock (_gate)
        {
            foreach (var read in reads)
            {
                read.Feed.ForceRead = true;
                _dirty.Add(read.Feed);
            }
        }
    }

    /// <summary>
    /// Queues a page of raws of one interaction: each subscriber gets the raws that continue its cursor, in order,
    /// as long as its outbox has room; a full page or a full outbox leaves the feed to a later pass.
    /// </summary>
    internal void Distribute(FeedRead read, IReadOnlyList<(RawRow Row, RecorderEnvelope Envelope, long Bytes)> page)
    {
        lock (_gate)
        {
            var feed = read.Feed;
            if (!_feeds.TryGetValue(feed.InteractionId, out var current) || current != feed)
            {
                return;
            }

            if (page.Count > 0)
            {
                feed.KnownLastSeq = Math.Max(feed.KnownLastSeq, page[^1].Row.Seq);
            }

            foreach (var subscription in feed.Subscribers)
            {
                var outbox = subscription.Outbox;
                foreach (var (row, envelope, bytes) in page)
                {
                    if (row.Seq <= subscription.Cursor)
                    {
                        continue;
                    }

                    if (row.Seq != subscription.Cursor + 1)
                    {
                        break; // its cursor moved back meanwhile: a later pass reads from there
                    }

                    if (outbox.Queue.Count >= _options.OutboxCapacity || (outbox.Queue.Count > 0 && outbox.QueuedBytes + bytes > _options.OutboxBytes))
                    {
                        outbox.WantsRoom = true;
                        break;
                    }

                    Enqueue(outbox, new OutboxItem(subscription, subscription.Generation, row.Seq, envelope, MarkSent: !row.IsSend, bytes, row.CreateTime));
                    subscription.Cursor = row.Seq;
                }
            }

            if (page.Count == read.Limit)
            {
                feed.ForceRead = true; // a full page: there may be more
            }

            QueueControlNotices(feed);
            QueueClosedNotices(feed);
            if (feed.ForceRead || feed.Subscribers.Exists(s => s.IsBehind && !s.Outbox.WantsRoom))
            {
                _dirty.Add(feed);
            }
        }
    }

    /// <summary>
    /// Called under the gate: the latest control envelope, once per change, to each subscriber that has every raw up to
    /// the seq the interaction had when the change was read (so it comes after them, in the connection's order). Not
    /// once the interaction is closed.
    /// </summary>
    private void QueueControlNotices(InteractionFeed feed)
    {
        if (feed.Control is not { } control)
        {
            return;
        }

        foreach (var subscription in feed.Subscribers)
        {
            if (subscription.ControlVersionQueued < control.ControlVersion && subscription.Cursor >= control.LastSeq)
            {
                if (feed.Closed is null)
                {
                    var envelope = EnvelopeFactory.Control(feed.InteractionId, control.ReplaySpeed ?? 0, control.Paused, control.ControlVersion);
                    Enqueue(subscription.Outbox, new OutboxItem(subscription, subscription.Generation, 0, envelope, MarkSent: false, Bytes: 0));
                }

                subscription.ControlVersionQueued = control.ControlVersion;
            }
        }
    }

    /// <summary>Called under the gate: the closed notice, once, to each subscriber that has every raw.</summary>
    private void QueueClosedNotices(InteractionFeed feed)
    {
        if (feed.Closed is not { } closed)
        {
            return;
        }

        foreach (var subscription in feed.Subscribers)
        {
            if (!subscription.ClosedNoticeQueued && subscription.Cursor >= closed.LastSeq
                && subscription.Outbox.Queue.Count < _options.OutboxCapacity)
            {
                Enqueue(subscription.Outbox, new OutboxItem(subscription, subscription.Generation, 0, EnvelopeFactory.Closed(closed), MarkSent: false, Bytes: 0));
                subscription.ClosedNoticeQueued = true;
            }
        }
    }

    /// <summary>Called under the gate.</summary>
    private void Enqueue(ConnectionOutbox outbox, OutboxItem item)
    {
        outbox.Queue.Enqueue(item);
        outbox.QueuedBytes += item.Bytes;
        if (!outbox.Draining)
        {
            outbox.Draining = true;
            outbox.LastProgress = Environment.TickCount64;
            _ = Task.Run(() => DrainAsync(outbox), CancellationToken.None);
        }
    }

    /// <summary>Writes the connection's queue in order, one envelope at a time, until it is empty.</summary>
    private async Task DrainAsync(ConnectionOutbox outbox)
    {
        while (true)
        {
            OutboxItem item;
            lock (_gate)
            {
                if (outbox.Closed || !outbox.Queue.TryDequeue(out item))
                {
                    outbox.Draining = false;
                    return;
                }

                outbox.QueuedBytes -= item.Bytes;
            }

            await outbox.SendLock.WaitAsync(CancellationToken.None);
            try
            {
                // Under the send lock a Resume cannot move the cursor: an item of an older generation is dropped.
                if (item.Generation == item.Subscription.Generation && !outbox.Closed)
                {
                    await WriteAsync(outbox, item);
                }
            }
            finally
            {
                outbox.SendLock.Release();
            }

            var roomAgain = false;
            lock (_gate)
            {
                outbox.LastProgress = Environment.TickCount64;
                if (outbox.WantsRoom && outbox.Queue.Count <= _options.OutboxCapacity / 2 && outbox.QueuedBytes <= _options.OutboxBytes / 2)
                {
                    outbox.WantsRoom = false;
                    roomAgain = true;
                    foreach (var subscription in outbox.Subscriptions)
                    {
                        subscription.Feed.ForceRead = true;
                        _dirty.Add(subscription.Feed);
                    }
                }
            }

            if (roomAgain)
            {
                Signal();
            }
        }
    }

    private async Task WriteAsync(ConnectionOutbox outbox, OutboxItem item)
    {
        try
        {
            await outbox.Caller.Message(item.Envelope);
        }
        catch (Exception exception)
        {
            // The connection broke; it is closed (and forgotten here) by SignalR, and resumes when it reconnects.
            Log.WriteFailed(logger, exception, outbox.ConnectionId);
            if (item.Seq > 0)
            {
                metrics.PushFailed();
            }

            return;
        }

        if (item.Seq > 0)
        {
            metrics.Pushed(item.MarkSent, item.CreateTime);
        }

        if (item.MarkSent && !outbox.Aborted.IsCancellationRequested)
        {
            sentMarks.Report(item.Subscription.Feed.InteractionId, item.Seq);
        }
    }

    private void Signal() => _wake.Writer.TryWrite(true);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Connection {ConnectionId} took nothing for {Timeout} while envelopes waited: closing it (it resumes when it reconnects)")]
        public static partial void SlowConsumer(ILogger logger, string connectionId, TimeSpan timeout);

        [LoggerMessage(EventId = 3102, Level = LogLevel.Debug, Message = "Write to connection {ConnectionId} failed")]
        public static partial void WriteFailed(ILogger logger, Exception exception, string connectionId);
    }
}
