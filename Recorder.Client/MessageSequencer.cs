using System.Threading.Channels;
using Recorder.Client.Contracts;

namespace Recorder.Client;

/// <summary>
/// The client's guard on the stream of one interaction. The server sends each raw once and in seq order on each
/// connection; the guard drops a seq the client already has (a <c>Resume</c> asked for less than it had) and reports
/// a seq that does not follow the last one (which a correct server never sends), so that the client can ask again.
/// The stream ends after the terminal raw.
/// </summary>
internal sealed class MessageSequencer
{
    private readonly Lock _gate = new();
    private readonly Channel<RecorderEnvelope> _output = Channel.CreateUnbounded<RecorderEnvelope>(new UnboundedChannelOptions { SingleReader = true });
    private long _lastSeq;
    private bool _completed;
    private (long Seq, Exception Error)? _endAt;

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

    /// <summary>Accepts one raw envelope (seq &gt; 0); false when it skipped ahead of the next seq (and was dropped).</summary>
    public bool Accept(RecorderEnvelope envelope)
    {
        lock (_gate)
        {
            if (_completed || envelope.Seq <= _lastSeq)
            {
                return true;
            }

            if (envelope.Seq != _lastSeq + 1)
            {
                return false;
            }

            _lastSeq = envelope.Seq;
            _output.Writer.TryWrite(envelope);
            if (envelope.IsTerminal)
            {
                _completed = true;
                _output.Writer.TryComplete();
            }

            EndIfReached();
            return true;
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

    private void EndIfReached()
    {
        if (!_completed && _endAt is { } end && _lastSeq >= end.Seq)
        {
            _completed = true;
            _output.Writer.TryComplete(end.Error);
        }
    }
}
