using Recorder.Client;
using Recorder.Client.Contracts;

namespace Recorder.Tests.Client;

public sealed class MessageSequencerTests
{
    private static RecorderEnvelope Raw(long seq, string status = RecorderStatus.Inner) => new() { Status = status, Success = true, Seq = seq };

    private static List<long> Drain(MessageSequencer sequencer)
    {
        var seqs = new List<long>();
        while (sequencer.Reader.TryRead(out var envelope))
        {
            seqs.Add(envelope.Seq);
        }

        return seqs;
    }

    [Fact]
    public void DuplicatesAreDroppedAndOrderIsRestored()
    {
        var sequencer = new MessageSequencer();
        foreach (var seq in new long[] { 1, 3, 2, 2, 1, 5, 4, 3 })
        {
            sequencer.Accept(Raw(seq));
        }

        Assert.Equal([1, 2, 3, 4, 5], Drain(sequencer));
        Assert.Equal(5, sequencer.LastSeq);
    }

    [Fact]
    public void AGapHoldsBackLaterRawsUntilItIsFilled()
    {
        var sequencer = new MessageSequencer();
        sequencer.Accept(Raw(1));
        sequencer.Accept(Raw(3));
        sequencer.Accept(Raw(4));
        Assert.Equal([1], Drain(sequencer));

        sequencer.Accept(Raw(2));
        Assert.Equal([2, 3, 4], Drain(sequencer));
    }

    [Fact]
    public async Task TheStreamCompletesAfterTheTerminalRaw()
    {
        var sequencer = new MessageSequencer();
        sequencer.Accept(Raw(2, RecorderStatus.Finished));
        sequencer.Accept(Raw(1, RecorderStatus.Running));
        sequencer.Accept(Raw(3));

        Assert.Equal([1, 2], Drain(sequencer));
        await sequencer.Reader.Completion.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task FailEndsTheStreamWithTheError()
    {
        var sequencer = new MessageSequencer();
        sequencer.Accept(Raw(1));
        sequencer.Fail(new InvalidOperationException("gone"));

        Assert.Equal([1], Drain(sequencer));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => sequencer.Reader.Completion.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("gone", error.Message);
    }

    [Fact]
    public async Task EndAfterEndsTheStreamOnceThatSeqIsDelivered()
    {
        var sequencer = new MessageSequencer();
        sequencer.Accept(Raw(1));
        sequencer.EndAfter(3, new TimeoutException("closed"));
        sequencer.Accept(Raw(3));
        Assert.False(sequencer.Reader.Completion.IsCompleted);

        sequencer.Accept(Raw(2));
        Assert.Equal([1, 2, 3], Drain(sequencer));
        await Assert.ThrowsAsync<TimeoutException>(() => sequencer.Reader.Completion.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
