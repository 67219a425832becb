using Recorder.Hub.Recordings;

namespace Recorder.Hub.Replay;

public static class ReplayExtensions
{
    public static IHostApplicationBuilder AddReplay(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReplayOptions>().BindConfiguration(ReplayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<RecordingCache>();
        builder.Services.AddSingleton<RunningRecordSource>();
        builder.Services.AddSingleton<DiskRecordingSource>();
        builder.Services.AddSingleton<PastInteractionSource>();
        builder.Services.AddSingleton<RecordingResolver>(); // puts the three sources in their order
        return builder;
    }
}
