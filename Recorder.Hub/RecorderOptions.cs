using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub;

/// <summary>The <c>Recorder</c> section.</summary>
public sealed class RecorderOptions
{
    public const string Section = "Recorder";

    /// <summary>The folder that holds recordings in XAgent's disk format; every <c>recorder_dir</c> must stay inside it.</summary>
    [Required(ErrorMessage = "Recorder:RecordingsRoot must name the folder that holds the recordings.")]
    public string RecordingsRoot { get; set; } = "recordings";
}
