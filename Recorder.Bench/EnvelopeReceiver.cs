using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client;
using Recorder.Client.Contracts;

namespace Recorder.Bench;

/// <summary>What a batch delivered: when its last envelope arrived (<see cref="Stopwatch"/> timestamp), and the envelopes if kept.</summary>
internal sealed record ReceivedBatch(long LastTimestamp, IReadOnlyList<RecorderEnvelope>? Envelopes);

/// <summary>
/// A plain SignalR client (a bare <see cref="HubConnection"/>, none of <see cref="RecorderClient"/>'s logic): JSON hub
/// (or MessagePack) protocol with the wire's options, default transports, <c>Message</c> deserialized into <see cref="RecorderEnvelope"/>
/// exactly as <see cref="RecorderClient"/> does it, so that the client-side cost is the same whichever server sends.
/// It checks each batch it is told to <see cref="Expect"/>: the given seqs, in order, each once; anything else is
/// counted as unexpected. The payload bytes its WebSocket receives are counted (<see cref="WireBytes"/>).
/// </summary>
internal sealed class EnvelopeReceiver : IAsyncDisposable
{
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly WireCounter _wire = new();
    private readonly TaskCompletionSource<RecorderEnvelope> _greeting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool _greeted;
    private Batch? _batch;
    private int _unexpected;
    private string? _firstUnexpected;

    private EnvelopeReceiver(Uri url, bool greeted, RecorderWireProtocol protocol)
    {
        _greeted = greeted;
        var builder = new HubConnectionBuilder()
            .WithUrl(url, http => http.WebSocketFactory = CountingWebSocket.Factory(_wire));
        Connection = (protocol == RecorderWireProtocol.MessagePack
            ? builder.AddMessagePackProtocol(msgpack => RecorderMessagePack.Configure(msgpack))
            : builder.AddJsonProtocol(json => RecorderProtocol.Configure(json.PayloadSerializerOptions))).Build();
        Connection.On<RecorderEnvelope>(nameof(IRecorderClient.Message), OnMessage);
        Connection.On(nameof(IRecorderClient.Pong), () => { });
        Connection.Closed += error =>
        {
            var lost = new InvalidOperationException("the connection closed" + (error is null ? "" : ": " + error.Message), error);
            if (_greeted)
            {
                _greeting.TrySetException(lost);
            }

            lock (_gate)
            {
                _batch?.Done.TrySetException(lost);
            }

            return Task.CompletedTask;
        };
    }

    public HubConnection Connection { get; }

    /// <summary>Payload bytes received over the WebSocket so far (handshake, pings and completions included).</summary>
    public long WireBytes => _wire.Bytes;

    /// <summary>The server's first seq-0 message (the Recorder hub's connect envelope); fails on a refusal.</summary>
    public Task<RecorderEnvelope> Greeting => _greeting.Task;

    /// <summary>
    /// Connects to <paramref name="url"/>. With <paramref name="greeted"/>, the server's first seq-0 message is taken as
    /// its greeting (<see cref="Greeting"/>) rather than counted as unexpected.
    /// </summary>
    public static Task<EnvelopeReceiver> ConnectAsync(Uri url, bool greeted, CancellationToken cancellationToken) =>
        ConnectAsync(url, greeted, RecorderWireProtocol.Json, cancellationToken);

    /// <summary>Connects with the given hub protocol (MessagePack with the wire's formatters, or JSON).</summary>
    public static async Task<EnvelopeReceiver> ConnectAsync(Uri url, bool greeted, RecorderWireProtocol protocol, CancellationToken cancellationToken)
    {
        var receiver = new EnvelopeReceiver(url, greeted, protocol);
        try
        {
            await receiver.Connection.StartAsync(cancellationToken);
            return receiver;
        }
        catch
        {
            await receiver.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Arms the next batch: the envelopes with <paramref name="seqs"/>, in that order, each once. The task completes when
    /// the last one arrived, and fails at the first envelope that does not follow (or when the connection closes).
    /// </summary>
    public Task<ReceivedBatch> Expect(IReadOnlyList<long> seqs, bool keep)
    {
        var batch = new Batch(seqs, keep);
        lock (_gate)
        {
            if (_batch is { Done.Task.IsCompleted: false })
            {
                throw new InvalidOperationException("a batch is still being received");
            }

            _batch = batch;
            if (seqs.Count == 0)
            {
                batch.Done.TrySetResult(new ReceivedBatch(Stopwatch.GetTimestamp(), keep ? [] : null));
            }
        }

        return batch.Done.Task;
    }

    /// <summary>Throws when anything arrived outside an armed batch (a duplicate, a message after the batch, a notice).</summary>
    public void ThrowIfUnexpected()
    {
        lock (_gate)
        {
            if (_unexpected > 0)
            {
                throw new InvalidOperationException($"{_unexpected} unexpected message(s), the first: {_firstUnexpected}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Connection.DisposeAsync().AsTask().WaitAsync(DisposeTimeout);
        }
        catch (TimeoutException)
        {
            await Console.Error.WriteLineAsync($"bench: a connection did not close within {DisposeTimeout.TotalSeconds} s");
        }
    }

    private void OnMessage(RecorderEnvelope envelope)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            if (_greeted && envelope.Seq == 0 && !_greeting.Task.IsCompleted)
            {
                if (envelope.Success)
                {
                    _greeting.TrySetResult(envelope);
                }
                else
                {
                    _greeting.TrySetException(new InvalidOperationException($"refused: {envelope.Message}"));
                }

                return;
            }

            if (_batch is not { } batch || batch.Done.Task.IsCompleted)
            {
                Unexpected($"seq {envelope.Seq} ({envelope.Status}) outside a batch");
                return;
            }

            var expected = batch.Seqs[batch.Received];
            if (envelope.Seq != expected)
            {
                var text = $"seq {envelope.Seq} ({envelope.Status}) where seq {expected} was expected ({batch.Received} of {batch.Seqs.Count} received)";
                Unexpected(text);
                batch.Done.TrySetException(new InvalidOperationException(text));
                return;
            }

            batch.Kept?.Add(envelope);
            if (++batch.Received == batch.Seqs.Count)
            {
                batch.Done.TrySetResult(new ReceivedBatch(now, batch.Kept));
            }
        }
    }

    /// <summary>Called under the gate.</summary>
    private void Unexpected(string text)
    {
        _unexpected++;
        _firstUnexpected ??= text;
    }

    /// <summary>One armed batch; guarded by the receiver's gate.</summary>
    private sealed class Batch(IReadOnlyList<long> seqs, bool keep)
    {
        public IReadOnlyList<long> Seqs { get; } = seqs;

        public List<RecorderEnvelope>? Kept { get; } = keep ? new List<RecorderEnvelope>(seqs.Count) : null;

        public int Received { get; set; }

        public TaskCompletionSource<ReceivedBatch> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
