namespace Recorder.Hub.Delivery;

/// <summary>
/// One connection following one interaction: a catch-up subscription whose <see cref="Cursor"/> is the last seq queued
/// for that connection. Every field is guarded by the <see cref="Subscriptions"/> gate.
/// </summary>
internal sealed class Subscription(ConnectionOutbox outbox, InteractionFeed feed)
{
    public ConnectionOutbox Outbox { get; } = outbox;

    public InteractionFeed Feed { get; } = feed;

    /// <summary>The last seq queued for (or written to) the connection; the next one it gets is <c>Cursor + 1</c>.</summary>
    public long Cursor { get; set; }

    /// <summary>Bumped by every <c>Resume</c>; what was queued under an older generation is dropped.</summary>
    public int Generation { get; set; }

    /// <summary>The closed notice is queued (it comes once, after the interaction's last raw).</summary>
    public bool ClosedNoticeQueued { get; set; }

    /// <summary>The control version of the last control envelope queued (0: none).</summary>
    public long ControlVersionQueued { get; set; }

    /// <summary>Whether the connection still lacks committed raws, the closed notice or the latest control envelope.</summary>
    public bool IsBehind => Cursor < Feed.KnownLastSeq || (Feed.Closed is not null && !ClosedNoticeQueued)
        || (Feed.Control is { } control && ControlVersionQueued < control.ControlVersion);
}
