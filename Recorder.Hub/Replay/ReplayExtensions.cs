using Recorder.Hub.Recordings;

namespace Recorder.Hub.Replay;

public static class ReplayExtensions
{
    public static IHostApplicationBuilder AddReplay(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReplayOptions>().BindConfiguration(ReplayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<RecordingCache>();
        builder.Services.AddSingleton<IRecordingSource, RunningRecordSource>();
        builder.Services.AddSingleton<IRecordingSource, DiskRecordingSource>();
        builder.Services.AddSingleton<IRecordingSource, PastInteractionSource>();
        builder.Services.AddSingleton<RecordingResolver>();
        return builder;
    }
}
