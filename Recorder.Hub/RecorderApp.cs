using Recorder.Data;
using Recorder.Hub.Auth;
using Recorder.Hub.Connect;
using Recorder.Hub.Delivery;
using Recorder.Hub.Health;
using Recorder.Hub.Metrics;
using Recorder.Hub.Playback;
using Recorder.Hub.Presence;
using Recorder.Hub.Proxy;
using Recorder.Hub.Recordings;
using Recorder.Hub.Rest;
using Recorder.Hub.Retention;
using Recorder.Hub.Runs;
using Recorder.Hub.XAgentWeb;

namespace Recorder.Hub;

/// <summary>The hub server: each concern is one extension method in its feature folder.</summary>
public static class RecorderApp
{
    /// <param name="args">Command-line arguments; <c>--Key=value</c> overrides configuration.</param>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddRecorderOptions();
        builder.AddRecorderProxy();
        builder.AddRecorderData();
        builder.AddRecorderHealth();
        builder.AddRecorderMetrics();
        builder.AddRecordings();
        builder.AddPlayback();
        builder.AddPresence();
        builder.AddRuns();
        builder.AddDelivery();
        builder.AddRecorderAuth();
        builder.AddRecorderHub();
        builder.AddRetention();
        builder.AddXAgentWeb();
        builder.AddRecordingUpload();
        builder.AddRecorderRest();

        var app = builder.Build();
        app.UseRecorderProxy();
        app.UseShutdownDraining();
        app.UseBackplaneRefusal();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapRecorderHub();
        app.MapRecordingsApi();
        app.MapRecordingUpload();
        app.MapRecorderRest();
        app.MapXAgentWeb();
        app.MapRecorderHealth();
        app.MapRecorderMetrics();
        return app;
    }
}
