namespace Recorder.Client.Contracts;

/// <summary>The methods the hub calls on a connected client.</summary>
public interface IRecorderClient
{
    /// <summary>One message of the interaction: the <c>connect</c> envelope, a raw, or a refusal.</summary>
    Task Message(RecorderEnvelope envelope);

    /// <summary>The server's keep-alive, sent every 20 seconds and in answer to <see cref="IRecorderHub.Ping"/>.</summary>
    Task Pong();
}
