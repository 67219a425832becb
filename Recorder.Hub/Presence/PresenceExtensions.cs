namespace Recorder.Hub.Presence;

public static class PresenceExtensions
{
    /// <summary>Call before <c>AddRuns</c>: hosted services stop in reverse order, so runs release their leases before the instance deregisters.</summary>
    public static IHostApplicationBuilder AddPresence(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<LocalConnections>();
        builder.Services.AddSingleton<PresenceService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PresenceService>());
        return builder;
    }
}
