using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub.Metrics;

/// <summary>The <c>Recorder:Telemetry</c> section.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Recorder:Telemetry";

    /// <summary>Serves the Prometheus text format at <c>/metrics</c> (anonymous: keep it off the public proxy).</summary>
    public bool Prometheus { get; set; } = true;

    /// <summary>
    /// Where to send metrics and traces over OTLP (e.g. <c>http://collector:4317</c>); empty: no OTLP. The standard
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable turns it on as well (with the other <c>OTEL_*</c> variables).
    /// </summary>
    [Url(ErrorMessage = "Recorder:Telemetry:OtlpEndpoint must be an absolute URL such as http://collector:4317.")]
    public string? OtlpEndpoint { get; set; }
}
