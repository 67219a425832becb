using System.Globalization;
using System.Net.WebSockets;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Retry;
using Recorder.Client.Contracts;

namespace Recorder.Client;

/// <summary>
/// The typed client of the Recorder hub. <see cref="ReadMessagesAsync"/> yields every raw of the interaction exactly
/// once, in seq order, across reconnects (the client reconnects on its own, then resumes from the last seq it has;
/// the server sends each raw once and in order from there), and completes after the <c>finished</c> or <c>failed</c>
/// raw, or with <see cref="RecorderInteractionClosedException"/> after the closed notice.
/// </summary>
public sealed class RecorderClient : IAsyncDisposable
{
    private readonly HubConnection _connection;
    private readonly MessageSequencer _sequencer = new();
    private readonly RecorderClientOptions _options;
    private readonly CancellationTokenSource _lifetime = new();
    private TaskCompletionSource<RecorderEnvelope> _greeting = NewGreeting();
    private int _pongs;
    private RecorderEnvelope? _playback;
    private RecorderInteraction? _interaction;
    private int _disposed;

    private RecorderClient(RecorderClientOptions options)
    {
        _options = options;
        InteractionId = options.ClientId ?? Guid.NewGuid().ToString("N");
        var builder = new HubConnectionBuilder()
            .WithUrl(ConnectUrl(options, InteractionId), http =>
            {
                if (options.SkipNegotiation)
                {
                    http.SkipNegotiation = true;
                    http.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
                }

                if (options.UseHeaders)
                {
                    http.Headers[RecorderProtocol.HeaderName(RecorderProtocol.UserIdKey)] = options.UserId;
                    http.Headers[RecorderProtocol.HeaderName(RecorderProtocol.TokenKey)] = options.Token;
                    http.Headers[RecorderProtocol.HeaderName(RecorderProtocol.RecorderDirKey)] = options.RecorderDir;
                    http.Headers[RecorderProtocol.HeaderName(RecorderProtocol.ClientIdKey)] = InteractionId;
                    if (options.Speed is { } speed)
                    {
                        http.Headers[RecorderProtocol.HeaderName(RecorderProtocol.SpeedKey)] = speed.ToString("R", CultureInfo.InvariantCulture);
                    }
                }

                options.ConfigureHttpConnection?.Invoke(http);
            })
            .WithAutomaticReconnect(new ReconnectPolicy(options.ReconnectWindow));
        _connection = (options.Protocol switch
        {
            RecorderWireProtocol.Json => builder.AddJsonProtocol(json => RecorderProtocol.Configure(json.PayloadSerializerOptions)),
            RecorderWireProtocol.MessagePack => builder.AddMessagePackProtocol(msgpack => RecorderMessagePack.Configure(msgpack)),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Protocol, "Not a wire protocol."),
        }).Build();

        _connection.On<RecorderEnvelope>(nameof(IRecorderClient.Message), OnMessage);
        _connection.On(nameof(IRecorderClient.Pong), () => Interlocked.Increment(ref _pongs));
        _connection.Reconnected += _ => ResumeAfterReconnectAsync();
        _connection.Closed += error =>
        {
            _sequencer.Fail(new RecorderConnectionLostException(error));
            _greeting.TrySetException(new RecorderConnectionLostException(error));
            return Task.CompletedTask;
        };
    }

    /// <summary>The interaction this client replays.</summary>
    public string InteractionId { get; }

    /// <summary>The server's <c>connect</c> message (data = the interaction).</summary>
    public RecorderEnvelope Connected { get; private set; } = null!;

    /// <summary>
    /// The interaction as the latest <c>connect</c> envelope (or <c>closed</c> notice) showed it: the data of
    /// <see cref="Connected"/>, typed, and after a reconnect or a close the newer one.
    /// </summary>
    public RecorderInteraction Interaction => Volatile.Read(ref _interaction)!;

    /// <summary>The highest seq <see cref="ReadMessagesAsync"/> has handed out (every lower one too).</summary>
    public long LastSeq => _sequencer.LastSeq;

    /// <summary>The number of <c>Pong</c> messages received.</summary>
    public int Pongs => Volatile.Read(ref _pongs);

    /// <summary>The state of the underlying SignalR connection.</summary>
    public HubConnectionState State => _connection.State;

    /// <summary>
    /// Connects (retrying transient failures), waits for the server's <c>connect</c> message and asks for every raw
    /// already written. Throws <see cref="RecorderConnectionRefusedException"/> when the server refuses.
    /// </summary>
    public static async Task<RecorderClient> ConnectAsync(RecorderClientOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var client = new RecorderClient(options);
        try
        {
            await client.StartAsync(cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the interaction's run; calling it again is harmless.</summary>
    public Task StartRecorderAsync(CancellationToken cancellationToken) =>
        _connection.InvokeAsync(nameof(IRecorderHub.StartRecorder), cancellationToken);

    /// <summary>Asks the server for a <c>Pong</c>.</summary>
    public Task PingAsync(CancellationToken cancellationToken) =>
        _connection.InvokeAsync(nameof(IRecorderHub.Ping), cancellationToken);

    /// <summary>
    /// Moves the server's cursor of this connection: from now on it sends every raw after <paramref name="afterSeq"/>,
    /// then the live ones (the client does this itself after every connect).
    /// </summary>
    public Task ResumeAsync(long afterSeq, CancellationToken cancellationToken) =>
        _connection.InvokeAsync(nameof(IRecorderHub.Resume), InteractionId, afterSeq, cancellationToken);

    /// <summary>
    /// The latest control envelope (status <c>paused</c> or <c>playing</c>, data <c>{"speed", "paused",
    /// "control_version"}</c>) this connection received; null before the first playback change.
    /// </summary>
    public RecorderEnvelope? Playback => Volatile.Read(ref _playback);

    /// <summary>Raised (on SignalR's receive loop: keep it short) for each control envelope, from any connection's change.</summary>
    public event Action<RecorderEnvelope>? PlaybackChanged;

    /// <summary>Pauses the run: no raw is written until <see cref="PlayAsync"/>. Throws <see cref="HubException"/> when the run is over.</summary>
    public Task PauseAsync(CancellationToken cancellationToken) =>
        _connection.InvokeAsync(nameof(IRecorderHub.Pause), cancellationToken);

    /// <summary>Plays a paused run again.</summary>
    public Task PlayAsync(CancellationToken cancellationToken) =>
        _connection.InvokeAsync(nameof(IRecorderHub.Play), cancellationToken);

    /// <summary>Sets the run's speed (within the server's bounds; <see cref="HubException"/> otherwise).</summary>
    public Task SetSpeedAsync(double speed, CancellationToken cancellationToken) =>
        _connection.InvokeAsync(nameof(IRecorderHub.SetSpeed), speed, cancellationToken);

    /// <summary>Writes the rest of the run without delays.</summary>
    public Task SkipToEndAsync(CancellationToken cancellationToken) =>
        _connection.InvokeAsync(nameof(IRecorderHub.SkipToEnd), cancellationToken);

    /// <summary>Every raw of the interaction once, in seq order; completes after the <c>finished</c> or <c>failed</c> raw.</summary>
    public IAsyncEnumerable<RecorderEnvelope> ReadMessagesAsync(CancellationToken cancellationToken) =>
        _sequencer.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Closes the connection (the server closes the interaction after its grace period unless another client attaches).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _lifetime.CancelAsync();
        await _connection.DisposeAsync();
        _lifetime.Dispose();
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var retry = _options.ConnectAttempts <= 1 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder()
                    .Handle<HttpRequestException>().Handle<WebSocketException>().Handle<TimeoutException>()
                    .Handle<RecorderConnectionLostException>(),
                MaxRetryAttempts = _options.ConnectAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
            })
            .Build();

        var greeting = await retry.ExecuteAsync(async ct =>
        {
            _greeting = NewGreeting();
            await _connection.StartAsync(ct);
            try
            {
                return await _greeting.Task.WaitAsync(_options.ConnectTimeout, ct);
            }
            catch (TimeoutException)
            {
                await _connection.StopAsync(CancellationToken.None);
                throw;
            }
        }, cancellationToken);

        Connected = greeting;
        await ResumeAsync(_sequencer.LastSeq, cancellationToken);
    }

    /// <summary>
    /// What a connect envelope (or the closed notice) tells about the stream: a closed interaction (left alone longer
    /// than the server's grace) never writes its terminal raw, so the stream ends with
    /// <see cref="RecorderInteractionClosedException"/> after its last raw (the data's <c>last_seq</c>).
    /// </summary>
    private void ApplyGreeting(RecorderEnvelope greeting)
    {
        var interaction = RecorderInteraction.Of(greeting);
        if (interaction is not null)
        {
            Volatile.Write(ref _interaction, interaction);
        }

        if (interaction is { Status: RecorderStatus.Closed })
        {
            _sequencer.EndAfter(interaction.LastSeq, new RecorderInteractionClosedException(InteractionId));
        }
    }

    /// <summary>
    /// After a reconnect (or a seq that skipped ahead), asks for everything after the last seq it has. The server
    /// handles a Resume only after it has sent the new connection's connect envelope, which <see cref="OnMessage"/> applies.
    /// </summary>
    private async Task ResumeAfterReconnectAsync()
    {
        try
        {
            await ResumeAsync(_sequencer.LastSeq, CancellationToken.None);
        }
        catch (Exception) when (_connection.State != HubConnectionState.Connected)
        {
            // Lost again: the next Reconnected resumes.
        }
        catch (HubException)
        {
            // The connection was refused: OnMessage ends the stream.
        }
    }

    private void OnMessage(RecorderEnvelope envelope)
    {
        if (envelope.Seq > 0)
        {
            if (envelope.InteractionId == InteractionId && !_sequencer.Accept(envelope))
            {
                _ = ResumeAfterReconnectAsync();
            }

            return;
        }

        if (envelope.Status is RecorderStatus.Paused or RecorderStatus.Playing && envelope.InteractionId == InteractionId)
        {
            Volatile.Write(ref _playback, envelope);
            PlaybackChanged?.Invoke(envelope);
            return;
        }

        // The first connect completes the greeting; every connect envelope (later ones after reconnects, or a
        // "closed" notice) tells how the stream stands.
        if (envelope.Success)
        {
            ApplyGreeting(envelope);
            _greeting.TrySetResult(envelope);
            return;
        }

        var refused = new RecorderConnectionRefusedException(envelope.Message ?? "refused");
        if (!_greeting.TrySetException(refused))
        {
            // Refused on a reconnect: final.
            _sequencer.Fail(refused);
            _ = _connection.StopAsync();
        }
    }

    private static TaskCompletionSource<RecorderEnvelope> NewGreeting() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static Uri ConnectUrl(RecorderClientOptions options, string clientId)
    {
        if (options.UseHeaders)
        {
            return options.HubUrl;
        }

        List<KeyValuePair<string, string?>> query =
        [
            new(RecorderProtocol.UserIdKey, options.UserId),
            new(RecorderProtocol.TokenKey, options.Token),
            new(RecorderProtocol.RecorderDirKey, options.RecorderDir),
            new(RecorderProtocol.ClientIdKey, clientId),
        ];
        if (options.Speed is { } speed)
        {
            query.Add(new(RecorderProtocol.SpeedKey, speed.ToString("R", CultureInfo.InvariantCulture)));
        }

        return new Uri(QueryHelpers.AddQueryString(options.HubUrl.AbsoluteUri, query));
    }

    /// <summary>
    /// Reconnect at once, then after a growing delay (250 ms, 500 ms, 1 s, then 2 s at most), each drawn at random
    /// between half and all of it, until the window has passed. The cap is low so that a client never sits idle for
    /// long after a restarted hub is back; the jitter spreads thousands of clients that lost the same hub.
    /// </summary>
    private sealed class ReconnectPolicy(TimeSpan window) : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext)
        {
            if (retryContext.ElapsedTime >= window)
            {
                return null;
            }

            if (retryContext.PreviousRetryCount == 0)
            {
                return TimeSpan.Zero;
            }

            var delay = Math.Min(2000, 250 * Math.Pow(2, retryContext.PreviousRetryCount - 1));
            return TimeSpan.FromMilliseconds(delay * (0.5 + Random.Shared.NextDouble() / 2));
        }
    }
}
