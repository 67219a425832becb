using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Recorder.Client.Contracts;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// What a browser integrator writes with <c>@microsoft/signalr</c> and nothing else: a <see cref="HubConnection"/> with
/// the connect values in the query string, no ordering or dedupe code, envelopes read as plain JSON. Every message is
/// recorded as it arrives, across the connections it opens; after a reconnect it calls <c>Resume(id, lastSeq)</c> with
/// the last seq it received, once.
/// </summary>
public sealed class PlainClient : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<(long Seq, string Status)> _raws = [];
    private readonly List<DateTime> _arrivals = [];
    private readonly List<string> _notices = [];
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _userId;
    private readonly string _token;
    private readonly string _recorderDir;
    private HubConnection? _connection;
    private TaskCompletionSource<JsonElement> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PlainClient(string userId, string token, string recorderDir, string interactionId)
    {
        _userId = userId;
        _token = token;
        _recorderDir = recorderDir;
        InteractionId = interactionId;
    }

    public string InteractionId { get; }

    /// <summary>Every raw received (seq, status), in arrival order, over every connection.</summary>
    public IReadOnlyList<(long Seq, string Status)> Raws
    {
        get
        {
            lock (_gate)
            {
                return [.. _raws];
            }
        }
    }

    /// <summary>When each raw of <see cref="Raws"/> arrived (UTC), by the same index.</summary>
    public IReadOnlyList<DateTime> Arrivals
    {
        get
        {
            lock (_gate)
            {
                return [.. _arrivals];
            }
        }
    }

    /// <summary>The statuses of the seq-0 messages (connect, closed), in arrival order.</summary>
    public IReadOnlyList<string> Notices
    {
        get
        {
            lock (_gate)
            {
                return [.. _notices];
            }
        }
    }

    /// <summary>Completes when a finished or failed raw (or the closed notice) arrives.</summary>
    public Task Ended => _ended.Task;

    /// <summary>Completes when the current connection closes (the server or a proxy dropped it).</summary>
    public Task Closed => _closed.Task;

    public long LastSeq
    {
        get
        {
            lock (_gate)
            {
                return _raws.Count == 0 ? 0 : _raws[^1].Seq;
            }
        }
    }

    /// <summary>
    /// Connects to <paramref name="hubUrl"/> creating a new interaction (or re-attaching to <paramref name="interactionId"/>
    /// when given) and waits for the connect message.
    /// </summary>
    public static async Task<PlainClient> ConnectAsync(Uri hubUrl, string userId, string token, string recorderDir, CancellationToken cancellationToken,
        string? interactionId = null)
    {
        var client = new PlainClient(userId, token, recorderDir, interactionId ?? Guid.NewGuid().ToString("N"));
        await client.OpenAsync(hubUrl, cancellationToken);
        return client;
    }

    public Task StartRecorderAsync(CancellationToken cancellationToken) =>
        _connection!.InvokeAsync("StartRecorder", cancellationToken);

    /// <summary>Calls <c>SkipToEnd()</c> on the current connection: the rest of the run without pauses.</summary>
    public Task SkipToEndAsync(CancellationToken cancellationToken) =>
        _connection!.InvokeAsync("SkipToEnd", cancellationToken);

    /// <summary>Calls <c>Resume(id, afterSeq)</c> on the current connection.</summary>
    public Task ResumeAsync(long afterSeq, CancellationToken cancellationToken) =>
        _connection!.InvokeAsync("Resume", InteractionId, afterSeq, cancellationToken);

    /// <summary>Drops the connection, opens a new one with the same client_id and resumes after the last seq received.</summary>
    public async Task ReconnectAsync(Uri hubUrl, CancellationToken cancellationToken)
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        await OpenAsync(hubUrl, cancellationToken);
        await _connection!.InvokeAsync("Resume", InteractionId, LastSeq, cancellationToken);
    }

    private async Task OpenAsync(Uri hubUrl, CancellationToken cancellationToken)
    {
        _connected = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        var url = new UriBuilder(hubUrl)
        {
            Query = TestQuery.Connect(_userId, _token, _recorderDir, InteractionId),
        }.Uri;
        var connection = new HubConnectionBuilder().WithUrl(url).Build();
        connection.On<JsonElement>("Message", OnMessage);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        _closed = closed;
        _connection = connection;
        await connection.StartAsync(cancellationToken);
        var connected = _connected.Task;
        if (await Task.WhenAny(connected, closed.Task).WaitAsync(TestEnvironment.Timeout, cancellationToken) != connected)
        {
            throw new InvalidOperationException("the server closed the connection before its connect message (it asks for a reconnect)");
        }

        var greeting = await connected;
        if (!greeting.GetProperty("success").GetBoolean())
        {
            throw new InvalidOperationException($"refused: {greeting.GetProperty("message").GetString()}");
        }
    }

    private void OnMessage(JsonElement envelope)
    {
        var seq = envelope.GetProperty("seq").GetInt64();
        var status = envelope.GetProperty("status").GetString()!;
        lock (_gate)
        {
            if (seq == 0)
            {
                _notices.Add(status);
            }
            else
            {
                _raws.Add((seq, status));
                _arrivals.Add(DateTime.UtcNow);
            }
        }

        if (seq == 0 && status is RecorderStatus.Connect or RecorderStatus.Failed)
        {
            _connected.TrySetResult(envelope.Clone());
        }

        if ((seq > 0 && status is RecorderStatus.Finished or RecorderStatus.Failed) || (seq == 0 && status == RecorderStatus.Closed))
        {
            _ended.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}
