using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Recorder.Bench;

/// <summary>
/// When the hub's Kestrel opened and ended each upgraded (WebSocket) connection, server side, from Kestrel's own
/// <c>kestrel.upgraded_connections</c> metric (+1 when a connection is upgraded, -1 when it ends), as
/// <see cref="Stopwatch"/> timestamps; every hub instance in this process counts.
/// </summary>
internal sealed class UpgradedConnections : IDisposable
{
    private const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";
    private const string Upgraded = "kestrel.upgraded_connections";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<long> _opened = new();
    private readonly ConcurrentQueue<long> _ended = new();

    public UpgradedConnections()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == KestrelMeter && instrument.Name == Upgraded)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => (value > 0 ? _opened : _ended).Enqueue(Stopwatch.GetTimestamp()));
        _listener.Start();
    }

    /// <summary>When each upgraded connection ended, from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public IReadOnlyList<long> Ended(long from, long to) => [.. _ended.Where(t => t >= from && t <= to).Order()];

    /// <summary>When each connection was upgraded, from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public IReadOnlyList<long> Opened(long from, long to) => [.. _opened.Where(t => t >= from && t <= to).Order()];

    public void Dispose() => _listener.Dispose();
}
