namespace Recorder.Tests.EndToEnd;

/// <summary>
/// OpenTelemetry listens to every meter named "Recorder" in the process, and the test process hosts many hubs: these
/// tests run alone (after the parallel ones), so that the counts are this server's.
/// </summary>
[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class MetricsCollection;
