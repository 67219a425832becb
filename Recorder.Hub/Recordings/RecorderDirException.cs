namespace Recorder.Hub.Recordings;

/// <summary>A <c>recorder_dir</c> that breaks the rules of <see cref="RecorderDir"/>.</summary>
public sealed class RecorderDirException(string message) : Exception(message);
