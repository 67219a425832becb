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

    /// <summary>Pauses the run of this connection's interaction (no raw is written until <see cref="Play"/>); every connection of it gets a <c>paused</c> control envelope.</summary>
    Task Pause();

    /// <summary>Plays a paused run again; every connection gets a <c>playing</c> control envelope.</summary>
    Task Play();

    /// <summary>Sets the run's speed (0 = no delays, 1 = the original pace, 2 = twice as fast), within the server's bounds; the rest of the pause being waited is rescaled from now.</summary>
    Task SetSpeed(double speed);

    /// <summary>Writes the rest of the run at speed 0 (and plays it if it was paused).</summary>
    Task SkipToEnd();
}
