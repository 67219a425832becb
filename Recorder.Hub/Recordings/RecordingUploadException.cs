namespace Recorder.Hub.Recordings;

/// <summary>An upload refused before anything was stored: <see cref="StatusCode"/> (400 or 413) and the reason.</summary>
public sealed class RecordingUploadException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}
