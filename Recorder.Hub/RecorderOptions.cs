using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub;

/// <summary>The <c>Recorder</c> section.</summary>
public sealed class RecorderOptions
{
    public const string Section = "Recorder";

    /// <summary>The folder that holds recordings in XAgent's disk format; every <c>recorder_dir</c> must stay inside it.</summary>
    [Required(ErrorMessage = "Recorder:RecordingsRoot must name the folder that holds the recordings.")]
    public string RecordingsRoot { get; set; } = "recordings";

    /// <summary>
    /// How many megabytes of recordings (their files' bytes on disk, or their rows' data) the hub keeps parsed in
    /// memory, shared by every run that replays them; 0 turns the cache off. A recording is read again as soon as
    /// one of its files or rows changes.
    /// </summary>
    [Range(0, 1_048_576, ErrorMessage = "Recorder:RecordingCacheMegabytes must be between 0 and 1048576.")]
    public int RecordingCacheMegabytes { get; set; } = 128;

    /// <summary>How often the hub sends <c>Pong</c> to every attached connection (the original: 20 seconds).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Recorder:PongInterval must be between 00:00:00.100 and 01:00:00.")]
    public TimeSpan PongInterval { get; set; } = TimeSpan.FromSeconds(20);
}

public static class RecorderOptionsExtensions
{
    public static IHostApplicationBuilder AddRecorderOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RecorderOptions>().BindConfiguration(RecorderOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }
}
