namespace Recorder.Hub.Playback;

public static class PlaybackExtensions
{
    /// <summary>Pause, play, speed and skip-to-end of a run, from any instance (the bounds are in <c>Recorder:Replay</c>).</summary>
    public static IHostApplicationBuilder AddPlayback(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PlaybackSignals>();
        builder.Services.AddSingleton<PlaybackControl>();
        return builder;
    }
}
