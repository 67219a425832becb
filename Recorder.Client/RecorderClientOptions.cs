using Microsoft.AspNetCore.Http.Connections.Client;

namespace Recorder.Client;

/// <summary>How to reach the hub and which recording to replay.</summary>
public sealed record RecorderClientOptions
{
    /// <summary>The hub's URL, e.g. <c>http://127.0.0.1:5080/hubs/recorder</c>.</summary>
    public required Uri HubUrl { get; init; }

    /// <summary>The user's id.</summary>
    public required string UserId { get; init; }

    /// <summary>The user's token.</summary>
    public required string Token { get; init; }

    /// <summary>The recording to replay (a folder under the recordings root, an imported record id, or a past interaction id).</summary>
    public required string RecorderDir { get; init; }

    /// <summary>
    /// The interaction's id. A new id creates an interaction; the id of one of your interactions re-attaches to it.
    /// Generated (32 hex characters) when null.
    /// </summary>
    public string? ClientId { get; init; }

    /// <summary>
    /// The replay speed of a new interaction: 0 = no delays, 1 = the original pace, 2 = twice as fast; null = the
    /// server's <c>Recorder:Replay:Speed</c>. The server refuses one outside its bounds. Re-attaching keeps the
    /// interaction's own speed (change it with <see cref="RecorderClient.SetSpeedAsync"/>).
    /// </summary>
    public double? Speed { get; init; }

    /// <summary>Send the connect values as headers (default) instead of in the query string.</summary>
    public bool UseHeaders { get; init; } = true;

    /// <summary>
    /// Open a WebSocket straight away, without SignalR's negotiate request (default): one HTTP request per connect
    /// instead of two. Set it to false to let SignalR negotiate a transport, e.g. behind a proxy that does not pass
    /// WebSockets.
    /// </summary>
    public bool SkipNegotiation { get; init; } = true;

    /// <summary>The hub protocol: JSON (default) or MessagePack. The messages are the same either way.</summary>
    public RecorderWireProtocol Protocol { get; init; } = RecorderWireProtocol.Json;

    /// <summary>Attempts of the first connect before giving up (transient failures only; a refusal is final).</summary>
    public int ConnectAttempts { get; init; } = 5;

    /// <summary>How long the first connect, including the server's connect message, may take per attempt.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the client keeps trying to reconnect after losing the connection.</summary>
    public TimeSpan ReconnectWindow { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Extra transport settings (e.g. a test's handler, or forcing a transport).</summary>
    public Action<HttpConnectionOptions>? ConfigureHttpConnection { get; init; }
}
