using System.Buffers.Text;
using System.Net.WebSockets;
using System.Text;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// A hub client that costs next to nothing whatever the envelopes weigh: the SignalR JSON protocol spoken over a raw
/// WebSocket, each frame split at the 0x1E separator and thrown away but for its first and last bytes (its target,
/// and the envelope's <c>seq</c>, which is its last property). It re-attaches to an interaction, calls
/// <c>Resume(interaction, 0)</c> and keeps the seqs of the raws in the order they came, until it has
/// <c>lastSeq</c> of them or the server closes the connection. It pings every few seconds, so that SignalR's client
/// timeout never cuts a long read.
/// </summary>
internal sealed class SeqOnlyClient : IAsyncDisposable
{
    private const int Kept = 512;
    private static readonly byte[] SeqProperty = "\"seq\":"u8.ToArray();
    private static readonly byte[] MessageTarget = "\"target\":\"Message\""u8.ToArray();
    private static readonly byte[] CloseType = "{\"type\":7"u8.ToArray();

    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _buffer = new byte[1024 * 1024];
    private readonly byte[] _head = new byte[Kept];
    private readonly byte[] _tail = new byte[Kept];
    private readonly SemaphoreSlim _send = new(1, 1);
    private int _headLength;
    private int _tailLength;

    /// <summary>The seqs of the raws received (not the connect envelope's 0), in arrival order.</summary>
    public List<long> Seqs { get; } = [];

    /// <summary>The SignalR close message, when the server sent one.</summary>
    public string? CloseMessage { get; private set; }

    public static async Task<SeqOnlyClient> ConnectAsync(Uri hubUrl, string userId, string token, string recorderDir, string interactionId, CancellationToken cancellationToken)
    {
        var client = new SeqOnlyClient();
        var query = TestQuery.Connect(userId, token, recorderDir, interactionId);
        await client._socket.ConnectAsync(new UriBuilder(hubUrl) { Scheme = "ws", Query = query }.Uri, cancellationToken);
        await client.SendAsync("{\"protocol\":\"json\",\"version\":1}\u001e", cancellationToken);
        return client;
    }

    /// <summary>Resumes from 0 and reads until <paramref name="lastSeq"/> arrived (or the connection ended).</summary>
    public async Task ReadAllAsync(string interactionId, long lastSeq, CancellationToken cancellationToken)
    {
        await SendAsync($"{{\"type\":1,\"invocationId\":\"1\",\"target\":\"Resume\",\"arguments\":[\"{interactionId}\",0]}}\u001e", cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pings = PingAsync(stop.Token);
        try
        {
            while (Seqs.Count == 0 || Seqs[^1] < lastSeq)
            {
                var result = await _socket.ReceiveAsync(_buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                Take(_buffer.AsSpan(0, result.Count));
                if (CloseMessage is not null)
                {
                    return;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await pings;
        }
    }

    private void Take(ReadOnlySpan<byte> received)
    {
        while (received.Length > 0)
        {
            var end = received.IndexOf((byte)0x1E);
            var part = end < 0 ? received : received[..end];
            Append(part);
            if (end < 0)
            {
                return;
            }

            Frame(_head.AsSpan(0, _headLength), _tail.AsSpan(0, _tailLength));
            _headLength = 0;
            _tailLength = 0;
            received = received[(end + 1)..];
        }
    }

    /// <summary>Keeps a frame's first <see cref="Kept"/> bytes and its last <see cref="Kept"/>.</summary>
    private void Append(ReadOnlySpan<byte> part)
    {
        var toHead = Math.Min(part.Length, Kept - _headLength);
        part[..toHead].CopyTo(_head.AsSpan(_headLength));
        _headLength += toHead;
        if (part.Length >= Kept)
        {
            part[^Kept..].CopyTo(_tail);
            _tailLength = Kept;
            return;
        }

        var keep = Math.Min(_tailLength, Kept - part.Length);
        _tail.AsSpan(_tailLength - keep, keep).CopyTo(_tail);
        part.CopyTo(_tail.AsSpan(keep));
        _tailLength = keep + part.Length;
    }

    private void Frame(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail)
    {
        if (head.StartsWith(CloseType))
        {
            CloseMessage = Encoding.UTF8.GetString(head);
            return;
        }

        if (head.IndexOf(MessageTarget) < 0)
        {
            return; // the handshake answer, a ping, Resume's completion
        }

        var at = tail.LastIndexOf(SeqProperty);
        if (at < 0 || !Utf8Parser.TryParse(tail[(at + SeqProperty.Length)..], out long seq, out _))
        {
            throw new InvalidOperationException($"an envelope without a seq at its end: ...{Encoding.UTF8.GetString(tail)}");
        }

        if (seq > 0)
        {
            Seqs.Add(seq);
        }
    }

    private async Task PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
                await SendAsync("{\"type\":6}\u001e", cancellationToken);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            // done reading, or the server went first
        }
    }

    private async Task SendAsync(string text, CancellationToken cancellationToken)
    {
        await _send.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellationToken);
        }
        finally
        {
            _send.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        _send.Dispose();
        return ValueTask.CompletedTask;
    }
}
