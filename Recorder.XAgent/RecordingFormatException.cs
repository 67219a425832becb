namespace Recorder.XAgent;

/// <summary>A recording that cannot be read; the message names the file or row at fault.</summary>
public sealed class RecordingFormatException(string message, Exception? inner = null) : Exception(message, inner);
