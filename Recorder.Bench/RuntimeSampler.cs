using System.Diagnostics.Metrics;

namespace Recorder.Bench;

/// <summary>One sample (at <paramref name="Ticks"/>, <see cref="DateTime.UtcNow"/>) of this process's CPU since the previous one (% of one core), thread pool and the hub's database pool.</summary>
internal readonly record struct RuntimeSample(long Ticks, double CpuPercent, long PendingWorkItems, int Threads, int PoolInUse, int PoolPending);

/// <summary>
/// Samples, every 100 ms while it runs, this process's thread-pool queue and thread count and the hub's Npgsql pool
/// (connections in use and requests waiting for one, from Npgsql's observable metrics of the pool whose name mentions
/// the database), and counts lock contentions and GCs over the whole time: what a hub that is late is waiting for.
/// </summary>
internal sealed class RuntimeSampler : IAsyncDisposable
{
    private const string NpgsqlMeter = "Npgsql";
    private const string ConnectionCount = "db.client.connection.count";
    private const string PendingRequests = "db.client.connection.npgsql.pending_requests";
    private const string PoolNameTag = "db.client.connection.pool.name";
    private const string StateTag = "db.client.connection.state";
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly MeterListener _listener = new();
    private readonly string _databaseName;
    private readonly List<RuntimeSample> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly long _contentionsBefore = Monitor.LockContentionCount;
    private readonly int[] _collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
    private readonly Task _loop;
    private int _inUse;
    private int _pending;

    public RuntimeSampler(string databaseName, CancellationToken cancellationToken)
    {
        _databaseName = databaseName;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == NpgsqlMeter && instrument.Name is ConnectionCount or PendingRequests)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>(OnMeasurement);
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) => OnMeasurement(instrument, (int)value, tags, state));
        _listener.Start();
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        _loop = Task.Run(async () =>
        {
            using (linked)
            {
                await SampleAsync(linked.Token);
            }
        }, CancellationToken.None);
    }

    /// <summary>Lock contentions in this process between start and <see cref="StopAsync"/> (<see cref="Monitor.LockContentionCount"/>).</summary>
    public long Contentions { get; private set; }

    /// <summary>Gen 0, 1 and 2 collections between start and <see cref="StopAsync"/>.</summary>
    public IReadOnlyList<int> Collections { get; private set; } = [0, 0, 0];

    public IReadOnlyList<RuntimeSample> Samples => _samples;

    /// <summary>Stops sampling and takes the counts.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Contentions = Monitor.LockContentionCount - _contentionsBefore;
        Collections = [.. _collectionsBefore.Select((before, gen) => GC.CollectionCount(gen) - before)];
        await _stop.CancelAsync();
        await _loop.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        var (lastTicks, lastCpu) = (DateTime.UtcNow.Ticks, ProcessSnapshot.Now().Cpu);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                _inUse = 0;
                _pending = 0;
                _listener.RecordObservableInstruments();
                var (ticks, cpu) = (DateTime.UtcNow.Ticks, ProcessSnapshot.Now().Cpu);
                var percent = 100.0 * (cpu - lastCpu).Ticks / Math.Max(1, ticks - lastTicks);
                _samples.Add(new RuntimeSample(ticks, percent, ThreadPool.PendingWorkItemCount, ThreadPool.ThreadCount, _inUse, _pending));
                (lastTicks, lastCpu) = (ticks, cpu);
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    private void OnMeasurement(Instrument instrument, int value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        var ours = false;
        var used = false;
        foreach (var tag in tags)
        {
            ours |= tag.Key == PoolNameTag && tag.Value is string pool && pool.Contains(_databaseName, StringComparison.Ordinal);
            used |= tag.Key == StateTag && tag.Value is "used";
        }

        if (!ours)
        {
            return;
        }

        if (instrument.Name == PendingRequests)
        {
            _pending += value;
        }
        else if (used)
        {
            _inUse += value;
        }
    }
}
