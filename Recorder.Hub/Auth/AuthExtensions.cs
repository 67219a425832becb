using Microsoft.AspNetCore.Authentication;

namespace Recorder.Hub.Auth;

public static class AuthExtensions
{
    public static IHostApplicationBuilder AddRecorderAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddAuthentication(RecorderAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, RecorderAuthenticationHandler>(RecorderAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization();
        builder.Services.AddSingleton<FailedAuthentications>();
        builder.Services.AddSingleton<UserCheck>();
        builder.AddConnectRateLimiting();
        return builder;
    }
}
