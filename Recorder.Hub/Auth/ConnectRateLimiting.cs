using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Recorder.Hub.Auth;

/// <summary>
/// Connect requests (negotiate and transport) are limited per <c>user_id</c> (per client address without one), before
/// any user is looked up: a token cannot be guessed at the speed of the network, and one user cannot flood the hub.
/// Over the limit a request gets 429 with the reason.
/// </summary>
public static class ConnectRateLimiting
{
    public const string Policy = "connect";

    public static IHostApplicationBuilder AddConnectRateLimiting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Policy, context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.ConnectsPerUserPerMinute;
                var key = ConnectParameters.Of(context).UserId is { } userId
                    ? $"user:{userId}"
                    : $"address:{context.Connection.RemoteIpAddress}";
                return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = perMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                rejected.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                rejected.HttpContext.Response.Headers.RetryAfter = "60";
                await rejected.HttpContext.Response.WriteAsJsonAsync(
                    new { error = "too many connects for this user_id in the last minute; try again later" }, cancellationToken);
            };
        });
        return builder;
    }
}
