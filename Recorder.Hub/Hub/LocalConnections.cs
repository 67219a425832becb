using System.Collections.Concurrent;

namespace Recorder.Hub.Hub;

/// <summary>The attached connections of this instance (the 20-second pong goes to these only).</summary>
public sealed class LocalConnections
{
    private readonly ConcurrentDictionary<string, byte> _ids = new(StringComparer.Ordinal);

    public int Count => _ids.Count;

    public void Add(string connectionId) => _ids.TryAdd(connectionId, 0);

    public void Remove(string connectionId) => _ids.TryRemove(connectionId, out _);

    public IReadOnlyList<string> Snapshot() => _ids.Keys.ToList();
}
