using System.Diagnostics;
using System.Diagnostics.Metrics;
using Recorder.Hub.Delivery;
using Recorder.Hub.Presence;
using Recorder.Hub.Runs;

namespace Recorder.Hub.Metrics;

/// <summary>
/// The <c>Recorder</c> meter and activity source: counters bumped on the hot paths (no allocation), gauges read from
/// the owning services only when a collector asks. docs/operations.md lists every instrument.
/// </summary>
public sealed class RecorderMetrics
{
    public const string Name = "Recorder";

    /// <summary>Spans per run and per delivery batch; sampled only when an OTLP endpoint is configured.</summary>
    public static readonly ActivitySource Activities = new(Name);

    private readonly Counter<long> _appended;
    private readonly Counter<long> _appendFailures;
    private readonly Counter<long> _pushed;
    private readonly Counter<long> _pushFailures;
    private readonly Histogram<double> _commitToSend;
    private readonly Counter<long> _takenOver;
    private readonly Counter<long> _connects;
    private readonly Counter<long> _refusals;

    /// <param name="meterFactory">Owns the meter (disposed with the host).</param>
    /// <param name="services">Resolves the services the gauges read, at collection time (they depend on this class).</param>
    public RecorderMetrics(IMeterFactory meterFactory, IServiceProvider services)
    {
        var meter = meterFactory.Create(Name);
        _appended = meter.CreateCounter<long>("recorder.raws.appended", "{raw}", "Raws committed to PostgreSQL by this instance's runs.");
        _appendFailures = meter.CreateCounter<long>("recorder.raws.append.failures", "{raw}", "Raws whose commit failed (reason=error) or was refused by the fencing (reason=refused).");
        _pushed = meter.CreateCounter<long>("recorder.raws.pushed", "{raw}", "Raw envelopes written to connections (first sends and resends).");
        _pushFailures = meter.CreateCounter<long>("recorder.raws.push.failures", "{raw}", "Raw envelopes whose write to a connection failed.");
        _commitToSend = meter.CreateHistogram<double>("recorder.raws.commit_to_send", "s", "From a raw's commit (its create_time) to its first write to a connection.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _takenOver = meter.CreateCounter<long>("recorder.runs.taken_over", "{run}", "Runs claimed by this instance that already had raws (taken over after an instance stopped or lost its lease).");
        _connects = meter.CreateCounter<long>("recorder.connects", "{connection}", "Connect requests by outcome: created, reattached, refused.");
        _refusals = meter.CreateCounter<long>("recorder.connects.refused", "{connection}", "Refused connect requests by reason.");
        meter.CreateObservableGauge("recorder.runs.live", () => services.GetRequiredService<RunScheduler>().ActiveRuns, "{run}", "Runs executing on this instance.");
        meter.CreateObservableGauge("recorder.connections.attached", () => services.GetRequiredService<LocalConnections>().Count, "{connection}", "Connections attached to an interaction on this instance.");
        meter.CreateObservableGauge("recorder.subscriptions.behind", () => services.GetRequiredService<Subscriptions>().Behind, "{subscription}", "Subscriptions that lack raws already committed.");
        meter.CreateObservableGauge("recorder.outbox.bytes", () => services.GetRequiredService<Subscriptions>().QueuedBytes, "By", "Bytes of envelopes queued to connections and not yet written.");
    }

    public void Appended(int raws) => _appended.Add(raws);

    public void AppendFailed(int raws, bool refused) =>
        _appendFailures.Add(raws, new KeyValuePair<string, object?>("reason", refused ? "refused" : "error"));

    /// <summary>A raw envelope was written; <paramref name="firstSend"/> with its commit time records the latency.</summary>
    public void Pushed(bool firstSend, DateTime createTime)
    {
        _pushed.Add(1);
        if (firstSend && createTime != default)
        {
            _commitToSend.Record(Math.Max(0, (DateTime.UtcNow - createTime.ToUniversalTime()).TotalSeconds));
        }
    }

    public void PushFailed() => _pushFailures.Add(1);

    public void TakenOver() => _takenOver.Add(1);

    public void Connected(bool created) =>
        _connects.Add(1, new KeyValuePair<string, object?>("outcome", created ? "created" : "reattached"));

    /// <summary><paramref name="reason"/> is one of a few fixed words (<see cref="Connect.ConnectDecision.RefusalKind"/>), never the message.</summary>
    public void Refused(string reason)
    {
        _connects.Add(1, new KeyValuePair<string, object?>("outcome", "refused"));
        _refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }
}
