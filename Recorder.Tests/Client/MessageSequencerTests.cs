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
    public void ASeqTheClientAlreadyHasIsDropped()
    {
        var sequencer = new MessageSequencer();
        foreach (var seq in new long[] { 1, 2, 1, 2, 3 })
        {
            Assert.True(sequencer.Accept(Raw(seq)));
        }

        Assert.Equal([1, 2, 3], Drain(sequencer));
        Assert.Equal(3, sequencer.LastSeq);
    }

    [Fact]
    public void ASeqThatSkipsAheadIsReportedAndNotDelivered()
    {
        var sequencer = new MessageSequencer();
        Assert.True(sequencer.Accept(Raw(1)));
        Assert.False(sequencer.Accept(Raw(3)));
        Assert.Equal([1], Drain(sequencer));
        Assert.Equal(1, sequencer.LastSeq);

        Assert.True(sequencer.Accept(Raw(2)));
        Assert.True(sequencer.Accept(Raw(3)));
        Assert.Equal([2, 3], Drain(sequencer));
    }

    [Fact]
    public async Task TheStreamCompletesAfterTheTerminalRaw()
    {
        var sequencer = new MessageSequencer();
        sequencer.Accept(Raw(1, RecorderStatus.Running));
        sequencer.Accept(Raw(2, RecorderStatus.Finished));
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
        sequencer.Accept(Raw(2));
        Assert.False(sequencer.Reader.Completion.IsCompleted);

        sequencer.Accept(Raw(3));
        Assert.Equal([1, 2, 3], Drain(sequencer));
        await Assert.ThrowsAsync<TimeoutException>(() => sequencer.Reader.Completion.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
