using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Authentication;

namespace Recorder.Hub.Auth;

public sealed class AuthOptions
{
    public const string Section = "Recorder:Auth";

    /// <summary>Refuse a user who already has a waiting or running interaction (re-attaching to it is allowed).</summary>
    public bool CheckRunning { get; set; } = true;

    /// <summary>Connect requests (SignalR's negotiate and transport requests each count) per user_id per minute.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Recorder:Auth:ConnectsPerUserPerMinute must be between 1 and 1000000.")]
    public int ConnectsPerUserPerMinute { get; set; } = 120;
}

public static class AuthExtensions
{
    public static IHostApplicationBuilder AddRecorderAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddAuthentication(RecorderAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, RecorderAuthenticationHandler>(RecorderAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization();
        builder.AddConnectRateLimiting();
        return builder;
    }
}
