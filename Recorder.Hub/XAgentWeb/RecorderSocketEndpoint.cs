using Recorder.Hub.Auth;
using Microsoft.Extensions.Options;
using Recorder.Hub.Connect;
using Recorder.Hub.Playback;
using Recorder.Hub.Runs;

namespace Recorder.Hub.XAgentWeb;

/// <summary>
/// <c>/ws/recorder/{client_id}</c>: XAgent's own recorder socket, for XAgent's web UI unchanged. Each socket is a
/// <see cref="RecorderSocketSession"/> on the same interactions, runs and delivery as the hub.
/// </summary>
public sealed class RecorderSocketEndpoint(
    UserCheck users,
    InteractionSessions sessions,
    RunScheduler runs,
    PlaybackControl playback,
    ConnectionAttach attach,
    ConnectionDepartures departures,
    IOptions<RecorderOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<RecorderSocketEndpoint> logger)
{
    public const string Pattern = "/ws/recorder/{client_id}";

    /// <summary>Prefix of the connection ids of these sockets (SignalR's ids never contain a colon).</summary>
    public const string ConnectionPrefix = "ws:";

    /// <summary>Largest frame a client may send; the UI sends a few bytes.</summary>
    public const int MaxFrameBytes = 64 * 1024;

    internal UserCheck Users => users;

    internal InteractionSessions Sessions => sessions;

    internal RunScheduler Runs => runs;

    internal PlaybackControl Playback => playback;

    internal ConnectionAttach Attach => attach;

    internal ConnectionDepartures Departures => departures;

    internal TimeSpan PongInterval => options.Value.PongInterval;

    internal ILogger Logger => logger;

    /// <summary>Cancelled when the instance stops: every socket is closed then (1001), so that none holds the shutdown up.</summary>
    internal CancellationToken Stopping => lifetime.ApplicationStopping;

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(
                new { error = "this endpoint is a WebSocket (XAgent's recorder protocol): open it with ws:// or wss://" }, context.RequestAborted);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var session = new RecorderSocketSession(this, context, socket);
        await session.RunAsync();
    }
}
