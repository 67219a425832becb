using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client;
using Recorder.Client.Contracts;

namespace Recorder.Bench;

/// <summary>What one <see cref="BareSignalR.SendAsync"/> delivered, and how fast.</summary>
/// <param name="Connections">Connections, one per envelope list.</param>
/// <param name="Messages">Envelopes delivered, over all connections.</param>
/// <param name="WireBytes">WebSocket payload bytes the clients received from the first send request on (envelopes, the invocations' completions, any ping).</param>
/// <param name="WallMs">From the first send request to the last envelope received on any connection.</param>
internal sealed record BareSendResult(int Connections, long Messages, long WireBytes, double WallMs)
{
    public double MessagesPerSecond => Messages / (WallMs / 1000);
}

/// <summary>
/// The bare SignalR baseline: a minimal ASP.NET Core app in this process (Kestrel on http://127.0.0.1:0, no
/// authentication, no database) whose plain <see cref="Microsoft.AspNetCore.SignalR.Hub"/> sends a connection its list of envelopes, in order, each
/// with <c>await Clients.Caller.SendAsync("Message", envelope)</c>: the method name, the type
/// (<see cref="RecorderEnvelope"/>, data as a <see cref="System.Text.Json.JsonElement"/>) and the JSON hub protocol
/// options (<see cref="RecorderProtocol.Configure"/>) of the Recorder hub, so the same envelopes make the same bytes on
/// the wire. The clients are <see cref="EnvelopeReceiver"/>s, the same plain connections a scenario uses against the
/// Recorder hub, so client-side cost matches too. Start once, send any number of times, dispose.
/// </summary>
internal sealed class BareSignalR : IAsyncDisposable
{
    public const string HubPath = "/hubs/bare";

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private readonly WebApplication _app;
    private readonly BareBatches _batches;

    private BareSignalR(WebApplication app, BareBatches batches)
    {
        _app = app;
        _batches = batches;
    }

    /// <summary>The hub protocol of the clients <see cref="SendAsync"/> connects.</summary>
    public RecorderWireProtocol Protocol { get; private init; }

    public Uri HubUrl => new(new Uri(_app.Urls.First()), HubPath);

    /// <summary>Starts the app (quiet logging: warnings and errors on stderr, like the hub under test).</summary>
    public static Task<BareSignalR> StartAsync(CancellationToken cancellationToken) => StartAsync(RecorderWireProtocol.Json, cancellationToken);

    /// <summary>Starts the app; its clients speak <paramref name="protocol"/> (the server offers JSON and MessagePack).</summary>
    public static async Task<BareSignalR> StartAsync(RecorderWireProtocol protocol, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(
        [
            "--urls=http://127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.AspNetCore=Error",
            "--Logging:Console:LogToStandardErrorThreshold=Trace",
        ]);
        var batches = new BareBatches();
        builder.Services.AddSingleton(batches);
        builder.Services.AddSignalR(o => o.EnableDetailedErrors = true)
            .AddJsonProtocol(o => RecorderProtocol.Configure(o.PayloadSerializerOptions))
            .AddMessagePackProtocol(o => RecorderMessagePack.Configure(o));
        var app = builder.Build();
        app.MapHub<BareHub>(HubPath);
        var bare = new BareSignalR(app, batches) { Protocol = protocol };
        try
        {
            await app.StartAsync(cancellationToken);
            return bare;
        }
        catch
        {
            await bare.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts an app, sends once (<see cref="SendAsync"/>) and stops it; for a single measurement.</summary>
    public static async Task<BareSendResult> SendOnceAsync(IReadOnlyList<IReadOnlyList<RecorderEnvelope>> perConnectionEnvelopes, CancellationToken cancellationToken)
    {
        await using var bare = await StartAsync(cancellationToken);
        return await bare.SendAsync(perConnectionEnvelopes, cancellationToken);
    }

    /// <summary>
    /// Connects one client per list (not timed, 16 at a time), then asks the server, on every connection at once, to
    /// send that connection its list; returns when every connection has received its whole list, checked to be the
    /// envelopes' seqs in order, each once. The lists are held by reference, not copied.
    /// </summary>
    public async Task<BareSendResult> SendAsync(IReadOnlyList<IReadOnlyList<RecorderEnvelope>> perConnectionEnvelopes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(perConnectionEnvelopes);
        var receivers = new EnvelopeReceiver?[perConnectionEnvelopes.Count];
        var batchId = Guid.NewGuid().ToString("N");
        _batches.Add(batchId, perConnectionEnvelopes);
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, receivers.Length),
                new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
                async (i, ct) => receivers[i] = await EnvelopeReceiver.ConnectAsync(HubUrl, greeted: false, Protocol, ct));

            var connected = receivers.Select(r => r!).ToArray();
            var batches = connected.Select((r, i) => r.Expect([.. perConnectionEnvelopes[i].Select(e => e.Seq)], keep: false)).ToArray();
            var bytesBefore = connected.Sum(r => r.WireBytes);
            var start = Stopwatch.GetTimestamp();
            var sends = connected.Select((r, i) => r.Connection.InvokeAsync(nameof(BareHub.Send), batchId, i, cancellationToken)).ToArray();
            var received = await Task.WhenAll(batches).WaitAsync(cancellationToken);
            await Task.WhenAll(sends).WaitAsync(cancellationToken);
            var last = received.Length == 0 ? start : Math.Max(start, received.Max(b => b.LastTimestamp));
            foreach (var receiver in connected)
            {
                receiver.ThrowIfUnexpected();
            }

            return new BareSendResult(connected.Length, perConnectionEnvelopes.Sum(l => (long)l.Count),
                connected.Sum(r => r.WireBytes) - bytesBefore, Units.ElapsedMs(start, last));
        }
        finally
        {
            _batches.Remove(batchId);
            await Task.WhenAll(receivers.OfType<EnvelopeReceiver>().Select(r => r.DisposeAsync().AsTask()));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(StopTimeout);
            await _app.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("bench: the bare SignalR app did not stop within 30 s");
        }

        await _app.DisposeAsync().AsTask().WaitAsync(StopTimeout);
    }

    /// <summary>The envelope lists of the sends under way, by batch id; the hub looks its connection's list up here.</summary>
    internal sealed class BareBatches
    {
        private readonly ConcurrentDictionary<string, IReadOnlyList<IReadOnlyList<RecorderEnvelope>>> _batches = new(StringComparer.Ordinal);

        public void Add(string batchId, IReadOnlyList<IReadOnlyList<RecorderEnvelope>> lists) => _batches[batchId] = lists;

        public void Remove(string batchId) => _batches.TryRemove(batchId, out _);

        public IReadOnlyList<RecorderEnvelope> Get(string batchId, int connection) =>
            _batches.TryGetValue(batchId, out var lists) && connection >= 0 && connection < lists.Count
                ? lists[connection]
                : throw new HubException($"no envelope list {connection} in batch '{batchId}'");
    }

    /// <summary>The plain hub: <see cref="Ping"/> answers at once; <see cref="Send"/> writes the caller's list, one awaited <c>SendAsync</c> per envelope (as the Recorder hub's outbox drain does).</summary>
    internal sealed class BareHub(BareBatches batches) : Microsoft.AspNetCore.SignalR.Hub
    {
        /// <summary>A round trip with no work: the bare counterpart of the Recorder client's <c>Resume</c> at connect.</summary>
        public long Ping(long value) => value;

        public async Task Send(string batchId, int connection)
        {
            foreach (var envelope in batches.Get(batchId, connection))
            {
                await Clients.Caller.SendAsync(nameof(IRecorderClient.Message), envelope, Context.ConnectionAborted);
            }
        }
    }
}
