using System.Text.Json.Serialization;

namespace Recorder.Hub.Health;

/// <summary>One check in <see cref="HealthBody"/>.</summary>
public sealed record HealthCheckBody(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("duration_ms")] double DurationMs);
