namespace Recorder.Client;

/// <summary>The connection to the hub is gone for good (reconnecting gave up, or the client was disposed).</summary>
public sealed class RecorderConnectionLostException(Exception? inner)
    : Exception("The connection to the Recorder hub was lost" + (inner is null ? "." : ": " + inner.Message), inner);
