using System.Threading.Channels;
using Recorder.Client.Contracts;

namespace Recorder.Client;

/// <summary>
/// Turns the envelopes of one interaction, as they arrive from live pushes and resumes (with duplicates and, around
/// a reconnect, out of order), into the gap-free seq order: each seq once, 1, 2, 3, ..., ending after the terminal one.
/// </summary>
internal sealed class MessageSequencer
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<long, RecorderEnvelope> _early = [];
    private readonly Channel<RecorderEnvelope> _output = Channel.CreateUnbounded<RecorderEnvelope>(new UnboundedChannelOptions { SingleReader = true });
    private long _lastSeq;
    private bool _completed;
    private (long Seq, Exception Error)? _endAt;
    private long _lastProgress;
    private bool _begun;

    /// <summary>The highest seq delivered so far (every lower one was delivered too).</summary>
    public long LastSeq
    {
        get
        {
            lock (_gate)
            {
                return _lastSeq;
            }
        }
    }

    public ChannelReader<RecorderEnvelope> Reader => _output.Reader;

    /// <summary>
    /// Whether the stream still waits for raws: not ended, and either a later seq arrived ahead of a missing one,
    /// or nothing arrived since <paramref name="since"/> although some raw did (the run has begun).
    /// </summary>
    public bool NeedsResync(long since)
    {
        lock (_gate)
        {
            return !_completed && (_early.Count > 0 || ((_lastSeq > 0 || _begun) && _lastProgress < since));
        }
    }

    /// <summary>The run has begun (started here, or found running): silence from now on is suspicious.</summary>
    public void Begin()
    {
        lock (_gate)
        {
            _begun = true;
        }
    }

    /// <summary>Accepts one raw envelope (seq &gt; 0).</summary>
    public void Accept(RecorderEnvelope envelope)
    {
        lock (_gate)
        {
            if (_completed || envelope.Seq <= _lastSeq)
            {
                return;
            }

            if (envelope.Seq != _lastSeq + 1)
            {
                _early.TryAdd(envelope.Seq, envelope);
                return;
            }

            Deliver(envelope);
            while (!_completed && _early.Remove(_lastSeq + 1, out var next))
            {
                Deliver(next);
            }
        }
    }

    /// <summary>Ends the stream with <paramref name="error"/> once every seq up to <paramref name="seq"/> has been delivered.</summary>
    public void EndAfter(long seq, Exception error)
    {
        lock (_gate)
        {
            _endAt = (seq, error);
            EndIfReached();
        }
    }

    /// <summary>Ends the stream with an error (the connection is gone for good).</summary>
    public void Fail(Exception exception)
    {
        lock (_gate)
        {
            _completed = true;
            _output.Writer.TryComplete(exception);
        }
    }

    private void Deliver(RecorderEnvelope envelope)
    {
        _lastSeq = envelope.Seq;
        _lastProgress = Environment.TickCount64;
        _output.Writer.TryWrite(envelope);
        if (envelope.IsTerminal)
        {
            _completed = true;
            _early.Clear();
            _output.Writer.TryComplete();
        }

        EndIfReached();
    }

    private void EndIfReached()
    {
        if (!_completed && _endAt is { } end && _lastSeq >= end.Seq)
        {
            _completed = true;
            _early.Clear();
            _output.Writer.TryComplete(end.Error);
        }
    }
}
