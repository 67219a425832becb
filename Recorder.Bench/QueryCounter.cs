using System.Diagnostics.Metrics;

namespace Recorder.Bench;

/// <summary>
/// Counts the database commands Npgsql executes against one database, client side and exactly, from Npgsql's own
/// <c>db.client.operation.duration</c> metric (one measurement per command). Only pools whose name mentions the
/// database count: the hub's (named by its connection string). The bench's own pool is named <c>bench-own</c> and its
/// statistics queries go through the admin database, so neither counts.
/// </summary>
internal sealed class QueryCounter : IDisposable
{
    private const string NpgsqlMeter = "Npgsql";
    private const string OperationDuration = "db.client.operation.duration";
    private const string PoolNameTag = "db.client.connection.pool.name";

    private readonly MeterListener _listener = new();
    private readonly string _databaseName;
    private long _commands;
    private long _microseconds;

    public QueryCounter(string databaseName)
    {
        _databaseName = databaseName;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == NpgsqlMeter && instrument.Name == OperationDuration)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.Start();
    }

    public QuerySnapshot Snapshot() => new(Interlocked.Read(ref _commands), Interlocked.Read(ref _microseconds) / 1000.0);

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == PoolNameTag && tag.Value is string pool && pool.Contains(_databaseName, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _commands);
                Interlocked.Add(ref _microseconds, (long)(seconds * 1_000_000));
                return;
            }
        }
    }
}

/// <summary>Commands executed so far and their summed duration.</summary>
internal readonly record struct QuerySnapshot(long Commands, double Milliseconds)
{
    public static QuerySnapshot operator -(QuerySnapshot after, QuerySnapshot before) =>
        new(after.Commands - before.Commands, after.Milliseconds - before.Milliseconds);
}
