using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Recorder.Hub.Health;

/// <summary>
/// <c>/health/live</c> (the process answers), <c>/health/ready</c> (PostgreSQL reachable and migrated, Redis when
/// configured, the notification listener up) and <c>/healthz</c>, the old path, as an alias of live. Anonymous; no
/// check reads a user.
/// </summary>
public static class HealthExtensions
{
    public const string ReadyTag = "ready";

    public static IHostApplicationBuilder AddRecorderHealth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(HealthOptions.Section).Get<HealthOptions>() ?? new HealthOptions();
        var checks = builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>(PostgresHealthCheck.Name, HealthStatus.Unhealthy, [ReadyTag], options.CheckTimeout)
            .AddCheck<ListenerHealthCheck>(ListenerHealthCheck.Name, HealthStatus.Unhealthy, [ReadyTag]);

        var redis = builder.Configuration.GetConnectionString("Redis");
        if (!string.IsNullOrWhiteSpace(redis))
        {
            builder.Services.AddSingleton(new RedisHealthCheck(redis));
            checks.AddCheck<RedisHealthCheck>(RedisHealthCheck.Name, HealthStatus.Unhealthy, [ReadyTag], options.CheckTimeout);
        }

        builder.Services.AddSingleton<Readiness>();
        builder.Services.AddSingleton<IHealthCheckPublisher>(sp => sp.GetRequiredService<Readiness>());
        builder.Services.AddOptions<HealthCheckPublisherOptions>().Configure<IOptions<HealthOptions>>((publisher, health) =>
        {
            publisher.Delay = TimeSpan.FromMilliseconds(100);
            publisher.Period = health.Value.ReadinessPeriod;
            publisher.Timeout = health.Value.ReadinessPeriod + health.Value.CheckTimeout;
            publisher.Predicate = r => r.Tags.Contains(ReadyTag);
        });
        return builder;
    }

    /// <summary>Health answers GET and HEAD; any other method gets 405, as the other endpoints do.</summary>
    private static readonly HttpMethodMetadata ReadOnly = new(["GET", "HEAD"]);

    public static IEndpointRouteBuilder MapRecorderHealth(this IEndpointRouteBuilder app)
    {
        var live = new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync };
        app.MapHealthChecks("/health/live", live).AllowAnonymous().WithMetadata(ReadOnly);
        app.MapHealthChecks("/healthz", live).AllowAnonymous().WithMetadata(ReadOnly);
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(ReadyTag),
            // A fresh run: what connects consult from now on too.
            ResponseWriter = async (context, report) =>
            {
                await context.RequestServices.GetRequiredService<Readiness>().PublishAsync(report, context.RequestAborted);
                await WriteAsync(context, report);
            },
        }).AllowAnonymous().WithMetadata(ReadOnly);
        return app;
    }

    /// <summary><c>{"status":"Unhealthy","checks":{"postgresql":{"status":"Unhealthy","description":"..."}}}</c>.</summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new HealthBody(
            report.Status.ToString(),
            report.TotalDuration.TotalMilliseconds,
            report.Entries.ToDictionary(e => e.Key, e => new HealthCheckBody(e.Value.Status.ToString(), e.Value.Description, e.Value.Duration.TotalMilliseconds)));
        return JsonSerializer.SerializeAsync(context.Response.Body, body, HealthJson.Default.HealthBody, context.RequestAborted);
    }
}
