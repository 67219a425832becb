namespace Recorder.Client.Contracts;

/// <summary>The methods a client may invoke on the hub at <see cref="RecorderProtocol.HubPath"/>.</summary>
public interface IRecorderHub
{
    /// <summary>Starts the run of this connection's interaction; a second call is a no-op.</summary>
    Task StartRecorder();

    /// <summary>Asks the server to answer with <see cref="IRecorderClient.Pong"/>.</summary>
    Task Ping();

    /// <summary>
    /// (Re)joins an interaction the caller owns and receives every message with <c>seq &gt; afterSeq</c>,
    /// then the live ones. <c>afterSeq = 0</c> replays all.
    /// </summary>
    Task Resume(string interactionId, long afterSeq);
}
