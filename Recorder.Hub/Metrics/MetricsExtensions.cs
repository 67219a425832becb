using Npgsql;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Recorder.Hub.Metrics;

/// <summary>
/// OpenTelemetry: the Recorder meter with ASP.NET Core's, SignalR's and Npgsql's, scraped at <c>/metrics</c> and sent
/// over OTLP when configured; traces (runs, delivery batches, requests, SQL) only over OTLP.
/// </summary>
public static class MetricsExtensions
{
    public const string ScrapePath = "/metrics";

    private static readonly string[] Meters =
    [
        RecorderMetrics.Name,
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.SignalR",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.RateLimiting",
        "Microsoft.AspNetCore.Authentication",
        "Npgsql",
    ];

    public static IHostApplicationBuilder AddRecorderMetrics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<RecorderMetrics>();
        var options = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        var otlp = !string.IsNullOrWhiteSpace(options.OtlpEndpoint)
            || !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var endpoint = string.IsNullOrWhiteSpace(options.OtlpEndpoint) ? null : new Uri(options.OtlpEndpoint);

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("recorder-hub"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Meters);
                if (options.Prometheus)
                {
                    metrics.AddPrometheusExporter();
                }

                if (otlp)
                {
                    metrics.AddOtlpExporter(o => o.Endpoint = SignalEndpoint(endpoint, o, "v1/metrics") ?? o.Endpoint);
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(RecorderMetrics.Name, "Microsoft.AspNetCore")
                .AddNpgsql()
                .AddOtlpExporter(o => o.Endpoint = SignalEndpoint(endpoint, o, "v1/traces") ?? o.Endpoint));
        }

        return builder;
    }

    /// <summary>
    /// The configured endpoint as the exporter of one signal needs it: as it is for gRPC; for http/protobuf
    /// (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>) with the signal's path, which OpenTelemetry adds only to an endpoint
    /// that came from <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.
    /// </summary>
    private static Uri? SignalEndpoint(Uri? endpoint, OtlpExporterOptions options, string path) =>
        endpoint is null || options.Protocol != OtlpExportProtocol.HttpProtobuf
            ? endpoint
            : new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + path);

    public static IEndpointRouteBuilder MapRecorderMetrics(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<MetricsOptions>>().Value;
        if (options.Prometheus)
        {
            app.MapPrometheusScrapingEndpoint(ScrapePath).AllowAnonymous();
        }

        return app;
    }
}
