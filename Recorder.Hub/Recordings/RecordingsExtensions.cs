namespace Recorder.Hub.Recordings;

public static class RecordingsExtensions
{
    /// <summary>Where a <c>recorder_dir</c> is looked up (in <see cref="RecordingResolver"/>'s order) and the parsed recordings kept.</summary>
    public static IHostApplicationBuilder AddRecordings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RecordingCache>();
        builder.Services.AddSingleton<RunningRecordSource>();
        builder.Services.AddSingleton<DiskRecordingSource>();
        builder.Services.AddSingleton<PastInteractionSource>();
        builder.Services.AddSingleton<RecordingResolver>(); // puts the three sources in their order
        return builder;
    }
}
