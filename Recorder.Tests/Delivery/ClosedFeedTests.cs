using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client.Contracts;
using Recorder.Data.Interactions;
using Recorder.Hub.Delivery;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Delivery;

/// <summary>
/// A delivery pass reads an interaction's state, sees it closed, then reads its row for the closed notice. If that
/// second read fails, the feed must stay in the sweep (which reads its state again), or the connections still attached
/// would never be told: the feed ends only once the row is in.
/// </summary>
public sealed class ClosedFeedTests : TimedTest
{
    [Fact]
    public async Task AClosedStateWhoseRowWasNotReadLeavesTheFeedInTheSweepUntilTheNoticeIsQueued()
    {
        await using var app = UnstartedHub.Build();
        var subscriptions = app.Services.GetRequiredService<Subscriptions>();
        var writer = new RecordingClient();
        subscriptions.Open("c1", writer, () => { }, Ct);
        await subscriptions.SubscribeAsync("c1", "i1", 2, Ct);
        Assert.Equal(["i1"], subscriptions.TakeStale());

        // The state says closed; the row is not read (the pass failed there). The failed pass marks all stale.
        Assert.Equal(["i1"], subscriptions.ApplyStates([new InteractionState { InteractionId = "i1", LastSeq = 2, Status = RecorderStatus.Closed }]));
        subscriptions.MarkAllStale();
        Assert.Equal(["i1"], subscriptions.TakeStale());

        // The next pass gets the row: the subscriber, which has every raw, is told; the feed is done with.
        Assert.Equal(["i1"], subscriptions.ApplyStates([new InteractionState { InteractionId = "i1", LastSeq = 2, Status = RecorderStatus.Closed }]));
        subscriptions.SetClosed(new InteractionRow { InteractionId = "i1", UserId = "u1", Status = RecorderStatus.Closed, LastSeq = 2 });
        foreach (var read in subscriptions.TakeReads())
        {
            subscriptions.Distribute(read, []); // the subscription's own read after its Resume: nothing after seq 2
        }

        var notice = await writer.Messages.ReadAsync(Ct).AsTask().WaitAsync(TestEnvironment.Timeout, Ct);
        Assert.Equal((RecorderStatus.Closed, "i1"), (notice.Status, notice.InteractionId));
        subscriptions.MarkAllStale();
        Assert.Empty(subscriptions.TakeStale());
    }

    private sealed class RecordingClient : IRecorderClient
    {
        private readonly Channel<RecorderEnvelope> _messages = Channel.CreateUnbounded<RecorderEnvelope>();

        public ChannelReader<RecorderEnvelope> Messages => _messages.Reader;

        public Task Message(RecorderEnvelope envelope) => _messages.Writer.WriteAsync(envelope).AsTask();

        public Task Pong() => Task.CompletedTask;
    }
}
