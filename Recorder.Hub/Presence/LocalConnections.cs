using System.Collections.Concurrent;

namespace Recorder.Hub.Presence;

/// <summary>
/// The attached connections of this instance and the interactions each is attached to: the 20-second pong goes
/// to these, and presence reconciles this instance's rows of <c>hub_connections</c> with them.
/// </summary>
public sealed class LocalConnections
{
    private readonly ConcurrentDictionary<string, string[]> _attached = new(StringComparer.Ordinal);

    public int Count => _attached.Count;

    /// <summary>Records the attachment (before it is written to the database, so a reconcile never removes it).</summary>
    public void Add(string connectionId, string interactionId) =>
        _attached.AddOrUpdate(connectionId, [interactionId], (_, ids) => ids.Contains(interactionId) ? ids : [.. ids, interactionId]);

    /// <summary>How many interactions the connection is attached to here.</summary>
    public int CountOf(string connectionId) => _attached.TryGetValue(connectionId, out var ids) ? ids.Length : 0;

    public bool IsAttached(string connectionId, string interactionId) =>
        _attached.TryGetValue(connectionId, out var ids) && ids.Contains(interactionId);

    public void Remove(string connectionId) => _attached.TryRemove(connectionId, out _);

    public IReadOnlyList<string> Snapshot() => _attached.Keys.ToList();

    /// <summary>Every (connection, interaction) pair attached here now.</summary>
    public IReadOnlyList<(string ConnectionId, string InteractionId)> Attachments() =>
        [.. _attached.SelectMany(a => a.Value.Select(interactionId => (a.Key, interactionId)))];
}
