using Recorder.Client.Contracts;

namespace Recorder.Hub.Delivery;

/// <summary>
/// The envelopes queued for one connection, written in order by one drain task at a time. Fields other than
/// <see cref="SendLock"/> are guarded by the <see cref="Subscriptions"/> gate. The connection is a sink: its id, a
/// writer, a way to reset it and a token that says it is gone (a SignalR connection and an XAgent web socket alike).
/// </summary>
internal sealed class ConnectionOutbox(string connectionId, IRecorderClient caller, Action abort, CancellationToken aborted)
{
    public string ConnectionId { get; } = connectionId;

    public IRecorderClient Caller { get; } = caller;

    /// <summary>Resets the transport at once (a slow consumer): the client sees a dropped connection and resumes.</summary>
    public Action Abort { get; } = abort;

    /// <summary>Cancelled when the connection is gone.</summary>
    public CancellationToken Aborted { get; } = aborted;

    public Queue<OutboxItem> Queue { get; } = new();

    public List<Subscription> Subscriptions { get; } = [];

    /// <summary>The <see cref="OutboxItem.Bytes"/> of what <see cref="Queue"/> holds.</summary>
    public long QueuedBytes { get; set; }

    /// <summary>Held while an envelope is written, and by a <c>Resume</c> while it moves a cursor.</summary>
    public SemaphoreSlim SendLock { get; } = new(1, 1);

    /// <summary>A drain task is running (or about to).</summary>
    public bool Draining { get; set; }

    /// <summary>The queue was full when raws were ready: the connection's feeds are read again once it has room.</summary>
    public bool WantsRoom { get; set; }

    /// <summary>When the connection last took an envelope, or started having some to take (Environment.TickCount64).</summary>
    public long LastProgress { get; set; }

    public bool Closed { get; set; }
}
