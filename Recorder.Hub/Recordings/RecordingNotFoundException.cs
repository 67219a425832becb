namespace Recorder.Hub.Recordings;

/// <summary>No source knows the recording a run asked for.</summary>
public sealed class RecordingNotFoundException(string message) : Exception(message);
