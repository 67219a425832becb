namespace Recorder.Client;

/// <summary>The hub refused the connection; <see cref="Exception.Message"/> is the server's reason (e.g. <c>user is not exist!</c>).</summary>
public sealed class RecorderConnectionRefusedException(string reason) : Exception(reason)
{
    /// <summary>The server's reason, as it sent it.</summary>
    public string Reason { get; } = reason;
}
