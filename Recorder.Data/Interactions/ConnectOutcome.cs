namespace Recorder.Data.Interactions;

public enum ConnectOutcome
{
    /// <summary>A new interaction was created and the connection attached to it.</summary>
    Created,

    /// <summary>The id named the user's own interaction; the connection is attached to it again.</summary>
    Reattached,

    /// <summary>The user has another waiting or running interaction (check_running).</summary>
    UserBusy,

    /// <summary>The id names another user's interaction.</summary>
    OtherUser,

    /// <summary>Another connect created the id at the same moment; connecting again sees it.</summary>
    IdTaken,

    /// <summary>The user has as many interactions not yet over as allowed; a new one is refused.</summary>
    TooManyInteractions,

    /// <summary>The user has as many attached connections as allowed.</summary>
    TooManyConnections,
}
