using Recorder.Hub.Delivery;
using Recorder.Hub.Presence;

namespace Recorder.Hub.Connect;

/// <summary>What happens when a connection leaves, hub connection or XAgent web socket alike, in one order.</summary>
public sealed partial class ConnectionDepartures(
    InteractionSessions sessions,
    Subscriptions subscriptions,
    LocalConnections local,
    PresenceService presence,
    ILogger<ConnectionDepartures> logger)
{
    /// <summary>Stops delivery and forgets the connection; if the database is unreachable, the heartbeat's reconcile removes it later.</summary>
    public async Task ForgetAsync(string connectionId)
    {
        subscriptions.Close(connectionId);
        local.Remove(connectionId);
        try
        {
            await sessions.DetachAsync(connectionId, CancellationToken.None);
        }
        catch (Exception exception)
        {
            Log.DetachFailed(logger, exception, connectionId);
            presence.RequestReconcile(); // its row is left behind: the reconciliation removes it and starts the grace
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4103, EventName = "DetachFailed", Level = LogLevel.Warning, Message = "Connection {ConnectionId} could not be detached")]
        public static partial void DetachFailed(ILogger logger, Exception exception, string connectionId);
    }
}
