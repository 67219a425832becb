using System.Text.Json;
using Recorder.Client.Contracts;

namespace Recorder.Hub.Health;

/// <summary>
/// A SignalR connection joins the Redis backplane before the hub sees it: with Redis down it would wait there, and never
/// get the hub's refusal. While the <c>redis</c> readiness check fails, requests to the hub path are answered at once
/// instead: a negotiate with SignalR's own <c>{"error": reason}</c> (which the clients raise as the error's message),
/// anything else (a WebSocket opened without negotiating) with 503 and the reason as text. The XAgent socket does not
/// use the backplane; it keeps refusing in-band.
/// </summary>
public static class BackplaneRefusal
{
    public static IApplicationBuilder UseBackplaneRefusal(this IApplicationBuilder app)
    {
        var readiness = app.ApplicationServices.GetRequiredService<Readiness>();
        return app.Use(async (context, next) =>
        {
            if (readiness.Fails(RedisHealthCheck.Name) && context.Request.Path.StartsWithSegments(RecorderProtocol.HubPath)
                && await readiness.NotReadyAsync(context.RequestAborted) is { } notReady && readiness.Fails(RedisHealthCheck.Name))
            {
                var reason = $"the hub is not ready: {notReady}";
                if (context.Request.Path.Value!.EndsWith("/negotiate", StringComparison.Ordinal))
                {
                    context.Response.ContentType = "application/json";
                    await context.Response.WriteAsync(JsonSerializer.Serialize(new { error = reason }), context.RequestAborted);
                }
                else
                {
                    context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                    context.Response.ContentType = "text/plain; charset=utf-8";
                    await context.Response.WriteAsync(reason, context.RequestAborted);
                }

                return;
            }

            await next(context);
        });
    }
}
