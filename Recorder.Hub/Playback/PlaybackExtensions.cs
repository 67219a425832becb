namespace Recorder.Hub.Playback;

public static class PlaybackExtensions
{
    /// <summary>
    /// The pace of a run (<c>Recorder:Replay</c>: the default speed, its bounds, the longest gap) and its pause, play,
    /// speed and skip-to-end from any instance.
    /// </summary>
    public static IHostApplicationBuilder AddPlayback(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReplayOptions>().BindConfiguration(ReplayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<PlaybackSignals>();
        builder.Services.AddSingleton<PlaybackControl>();
        return builder;
    }
}
