using System.Globalization;

namespace Recorder.Tests.Infrastructure;

/// <summary>A hub's <c>/metrics</c> (OpenTelemetry's Prometheus exporter), read as samples.</summary>
public static class PrometheusText
{
    /// <summary>
    /// The Prometheus text: each sample under its name, and under its name with its labels (less the scope's) when
    /// it has any; several samples of one name add up under the bare name.
    /// </summary>
    public static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var text = await http.GetStringAsync("/metrics", cancellationToken);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            var series = line[..space];
            var head = series.Split(' ')[0];
            if (double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) is false)
            {
                // "name value timestamp": the value is the second field.
                var fields = line.Split(' ');
                head = fields[0];
                value = double.Parse(fields[1], CultureInfo.InvariantCulture);
            }

            var brace = head.IndexOf('{', StringComparison.Ordinal);
            var name = brace < 0 ? head : head[..brace];
            samples[name] = samples.GetValueOrDefault(name) + value;
            if (brace >= 0)
            {
                var labels = head[(brace + 1)..^1].Split(',').Where(l => !l.StartsWith("otel_scope_", StringComparison.Ordinal)).ToArray();
                if (labels.Length > 0)
                {
                    var key = $"{name}{{{string.Join(',', labels)}}}";
                    samples[key] = samples.GetValueOrDefault(key) + value;
                }
            }
        }

        return samples;
    }
}
