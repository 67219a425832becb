using Microsoft.Extensions.DependencyInjection;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Hub.Runs;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

public sealed class DisconnectGraceTests(GraceHubServer server) : TimedTest, IClassFixture<GraceHubServer>
{
    private Task<string> StatusOfAsync(string id) =>
        server.QueryScalarAsync<string>("SELECT status FROM interactions WHERE interaction_id = @id", new { id });

    /// <summary>Starts a paced run, reads its first messages, and disconnects; returns the interaction id.</summary>
    private async Task<string> StartThenLeaveAsync(string user, string token, int messagesRead)
    {
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording), Ct);
        await client.StartRecorderAsync(Ct);
        await using var messages = client.ReadMessagesAsync(Ct).GetAsyncEnumerator(Ct);
        for (var i = 0; i < messagesRead; i++)
        {
            Assert.True(await messages.MoveNextAsync());
        }

        return client.InteractionId;
    }

    [Fact]
    public async Task AClientThatLeavesHasItsRunClosedAfterTheGrace()
    {
        var (user, token) = await server.NewUserAsync();
        var id = await StartThenLeaveAsync(user, token, messagesRead: 2);

        await Eventually.UntilAsync(() => StatusOfAsync(id), s => s != RecorderStatus.Running, TestEnvironment.Timeout, "the interaction to leave running");
        var scheduler = server.Services.GetRequiredService<RunScheduler>();
        await Eventually.UntilAsync(() => Task.FromResult(scheduler.ActiveRuns), n => n == 0, TestEnvironment.Timeout, "the run to stop");

        Assert.Equal(RecorderStatus.Closed, await StatusOfAsync(id));
        var statuses = await server.QueryAsync<string>("SELECT status FROM raw WHERE interaction_id = @id ORDER BY seq", new { id });
        Assert.DoesNotContain(RecorderStatus.Finished, statuses);
        Assert.DoesNotContain(RecorderStatus.Failed, statuses);
        var lastSeq = await server.QueryScalarAsync<long>("SELECT last_seq FROM interactions WHERE interaction_id = @id", new { id });
        Assert.Equal(statuses.Count, lastSeq);
        Assert.True(lastSeq < (await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"))).Count);
    }

    [Fact]
    public async Task ReattachingToAClosedInteractionDeliversItsRawsThenEnds()
    {
        var (user, token) = await server.NewUserAsync();
        var id = await StartThenLeaveAsync(user, token, messagesRead: 1);

        await Eventually.UntilAsync(() => StatusOfAsync(id), s => s == RecorderStatus.Closed, TestEnvironment.Timeout, "the interaction to close");
        var written = await server.QueryAsync<long>("SELECT seq FROM raw WHERE interaction_id = @id ORDER BY seq", new { id });

        await using var again = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "ignored-on-reattach", id), Ct);
        var received = new List<long>();
        var error = await Assert.ThrowsAsync<RecorderInteractionClosedException>(async () =>
        {
            await foreach (var message in again.ReadMessagesAsync(Ct))
            {
                received.Add(message.Seq);
            }
        });
        Assert.Equal(id, error.InteractionId);
        Assert.Equal(written, received);
    }

    [Fact]
    public async Task APausedRunWhoseClientLeftIsStoppedWhenItsInteractionIsClosed()
    {
        // Paused, the run commits nothing, so the write fence never gets a say: only the close's cancel can stop it.
        var (user, token) = await server.NewUserAsync();
        string id;
        await using (var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording), Ct))
        {
            id = client.InteractionId;
            await client.StartRecorderAsync(Ct);
            await using var messages = client.ReadMessagesAsync(Ct).GetAsyncEnumerator(Ct);
            Assert.True(await messages.MoveNextAsync());
            await client.PauseAsync(Ct);
        }

        await Eventually.UntilAsync(() => StatusOfAsync(id), s => s == RecorderStatus.Closed, TestEnvironment.Timeout, "the interaction to close");
        var scheduler = server.Services.GetRequiredService<RunScheduler>();
        await Eventually.UntilAsync(() => Task.FromResult(scheduler.ActiveRuns), n => n == 0, TestEnvironment.Timeout, "the paused run to stop");
        var statuses = await server.QueryAsync<string>("SELECT status FROM raw WHERE interaction_id = @id ORDER BY seq", new { id });
        Assert.True(statuses.Count < (await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"))).Count, "the run was not paused mid-way");
        Assert.DoesNotContain(RecorderStatus.Finished, statuses);
    }

    [Fact]
    public async Task AClientThatComesBackWithinTheGraceKeepsItsRun()
    {
        var (user, token) = await server.NewUserAsync();
        var options = server.ClientOptions(user, token, PacedHubServer.Recording);
        string id;
        await using (var first = await RecorderClient.ConnectAsync(options, Ct))
        {
            id = first.InteractionId;
            await first.StartRecorderAsync(Ct);
        }

        await using var again = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording, id), Ct);
        var messages = await Replays.ReadAllAsync(again, Ct);

        Replays.AssertGapFreeFromOne(messages);
        Assert.Equal(RecorderStatus.Finished, messages[^1].Status);
        Assert.Equal(RecorderStatus.Finished, await StatusOfAsync(id));
    }
}
