using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client.Contracts;
using Recorder.Hub.Delivery;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// <c>is_send</c> is set only after the push: a connection whose writes the test holds open shows each raw unmarked
/// while its write is under way and marked once the write has completed.
/// </summary>
public sealed class SentMarkTests(NoRunHubServer server) : IClassFixture<NoRunHubServer>
{
    private static CancellationToken Ct => new CancellationTokenSource(TestEnvironment.Timeout).Token;

    [Fact]
    public async Task IsSendIsSetOnlyOnceTheWriteToTheConnectionHasCompleted()
    {
        var (user, _) = await server.NewUserAsync();
        var id = Guid.NewGuid().ToString("N");
        await TestInteractions.InsertWaitingAsync(server.Database.DataSource, id, user, Ct);
        await StuckConnection.WriteAsync(server, id, 1, 3, 16, Ct);

        // A connection of this instance (the hub's own registration path) whose every write waits for the test.
        var subscriptions = server.Services.GetRequiredService<Subscriptions>();
        var writer = new HeldWriter();
        var connectionId = $"held-{id}";
        using var gone = new CancellationTokenSource();
        subscriptions.Open(connectionId, writer, () => { }, gone.Token);
        try
        {
            await subscriptions.SubscribeAsync(connectionId, id, 0, Ct);
            for (var seq = 1L; seq <= 3; seq++)
            {
                var (envelope, done) = await writer.Writes.ReadAsync(Ct).AsTask().WaitAsync(TestEnvironment.Timeout, Ct);
                Assert.Equal(seq, envelope.Seq);

                // An observation window, not a wait for a condition: a mark reported before the write completed is
                // committed within it (SentMarks marks a lone report at once).
                await Task.Delay(TimeSpan.FromMilliseconds(500), Ct);
                Assert.Equal(seq - 1, await MarkedAsync(id));

                done.SetResult();
                await Eventually.UntilAsync(() => MarkedAsync(id), n => n == seq, TestEnvironment.Timeout, $"seq {seq} marked once written");
            }
        }
        finally
        {
            subscriptions.Close(connectionId);
        }
    }

    private Task<long> MarkedAsync(string id) =>
        server.QueryScalarAsync<long>("SELECT count(*) FROM raw WHERE interaction_id = @id AND is_send", new { id });

    /// <summary>Hands each write to the test and completes it when the test says so.</summary>
    private sealed class HeldWriter : IRecorderClient
    {
        private readonly Channel<(RecorderEnvelope Envelope, TaskCompletionSource Done)> _writes = Channel.CreateUnbounded<(RecorderEnvelope, TaskCompletionSource)>();

        public ChannelReader<(RecorderEnvelope Envelope, TaskCompletionSource Done)> Writes => _writes.Reader;

        public Task Message(RecorderEnvelope envelope)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _writes.Writer.TryWrite((envelope, done));
            return done.Task;
        }

        public Task Pong() => Task.CompletedTask;
    }
}
