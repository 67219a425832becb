using Microsoft.AspNetCore.Authentication;

namespace Recorder.Hub.Auth;

public sealed class AuthOptions
{
    public const string Section = "Recorder:Auth";

    /// <summary>Refuse a user who already has a waiting or running interaction (re-attaching to it is allowed).</summary>
    public bool CheckRunning { get; set; } = true;
}

public static class AuthExtensions
{
    public static IHostApplicationBuilder AddRecorderAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddAuthentication(RecorderAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, RecorderAuthenticationHandler>(RecorderAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization();
        return builder;
    }
}
