using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Recorder.Hub.Auth;

/// <summary>
/// Connect requests (negotiate and transport) are limited per <c>user_id</c> (per client address without one) and
/// per client address whatever the user, before any user is looked up: a token cannot be guessed at the speed of the
/// network, and one user or one machine cannot flood the hub. Over a limit a request gets 429 with the reason.
/// </summary>
public static class ConnectRateLimiting
{
    public const string Policy = "connect";
    public const string Refusal = "too many connects for this user_id or from this address in the last minute; try again later";

    public static IHostApplicationBuilder AddConnectRateLimiting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Policy, context =>
            {
                var perMinute = Options(context).ConnectsPerUserPerMinute;
                var key = ConnectParameters.Of(context).UserId is { } userId
                    ? $"user:{userId}"
                    : $"address:{context.Connection.RemoteIpAddress}";
                return PerMinute(key, perMinute);
            });

            // Checked before the endpoint's policy, for the endpoints that have it (the hub's connect requests).
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName == Policy
                    ? PerMinute($"address:{context.Connection.RemoteIpAddress}", Options(context).ConnectsPerAddressPerMinute)
                    : RateLimitPartition.GetNoLimiter(""));

            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                rejected.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                rejected.HttpContext.Response.Headers.RetryAfter = "60";
                await rejected.HttpContext.Response.WriteAsJsonAsync(new { error = Refusal }, cancellationToken);
            };
        });
        return builder;
    }

    private static AuthOptions Options(HttpContext context) => context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value;

    private static RateLimitPartition<string> PerMinute(string key, int permits) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });
}
