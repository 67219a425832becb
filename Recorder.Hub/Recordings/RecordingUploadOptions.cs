using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub.Recordings;

/// <summary><c>POST /api/recordings</c>: who may upload, and how big an upload may be (section <c>Recorder:Upload</c>).</summary>
public sealed class RecordingUploadOptions
{
    public const string Section = "Recorder:Upload";

    /// <summary>Largest request body (the zip), in bytes; a bigger one is answered 413 before it is read to the end.</summary>
    [Range(1, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Most entries (files and folders) the zip may hold.</summary>
    [Range(1, int.MaxValue)]
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>Most bytes the zip's files may expand to, counted while extracting (the zip's own sizes are not trusted).</summary>
    [Range(1, long.MaxValue)]
    public long MaxExpandedBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>The user ids allowed to upload; empty (the default) allows every authenticated user.</summary>
    public string[] UploaderUserIds { get; set; } = [];
}
