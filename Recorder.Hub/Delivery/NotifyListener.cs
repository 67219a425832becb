namespace Recorder.Hub.Delivery;

/// <summary>
/// Whether <see cref="DeliveryService"/> is listening for PostgreSQL notifications right now, and why not when it is
/// not: set by the listener, read by the readiness check (one field, no lock). It counts as listening until its first
/// attempt fails: it starts with the host, before the first connection can arrive, and a subscription made before it
/// listens is caught up when it does (it marks every feed stale).
/// </summary>
public sealed class NotifyListener
{
    private volatile string? _failure;

    /// <summary>Why the listener is down (the last error), or null while it listens.</summary>
    public string? Failure => _failure;

    internal void Listening() => _failure = null;

    internal void Down(string why) => _failure = why;
}
