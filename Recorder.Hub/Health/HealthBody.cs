using System.Text.Json.Serialization;

namespace Recorder.Hub.Health;

/// <summary>The JSON body of the health endpoints.</summary>
public sealed record HealthBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("duration_ms")] double DurationMs,
    [property: JsonPropertyName("checks")] IReadOnlyDictionary<string, HealthCheckBody> Checks);
