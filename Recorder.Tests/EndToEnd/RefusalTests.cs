using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Hub.Connect;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

public sealed class RefusalTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    private async Task<string> RefusalOfAsync(RecorderClientOptions options) =>
        (await Assert.ThrowsAsync<RecorderConnectionRefusedException>(() => RecorderClient.ConnectAsync(options, Ct))).Reason;

    private Task<long> InteractionsOfAsync(string userId) =>
        server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE user_id = @userId", new { userId });

    [Fact]
    public async Task UnknownUserIsRefusedInTheOriginalWords()
    {
        Assert.Equal("user is not exist!", await RefusalOfAsync(server.ClientOptions("nobody", "x", "multi_subtask")));
    }

    [Fact]
    public async Task WrongTokenIsRefusedAndCreatesNothing()
    {
        var (user, _) = await server.NewUserAsync();
        Assert.Equal("user is not available!", await RefusalOfAsync(server.ClientOptions(user, "wrong", "multi_subtask")));
        Assert.Equal(0, await InteractionsOfAsync(user));
    }

    [Fact]
    public async Task UnavailableUserIsRefused()
    {
        await server.AddUserAsync("disabled-user", "tok", available: false);
        Assert.Equal("user is not available!", await RefusalOfAsync(server.ClientOptions("disabled-user", "tok", "multi_subtask")));
        Assert.Equal(0, await InteractionsOfAsync("disabled-user"));
    }

    [Fact]
    public async Task ASecondInteractionWhileOneIsWaitingIsRefusedButReattachingIsNot()
    {
        var (user, token) = await server.NewUserAsync();
        await using var first = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);

        Assert.Equal(InteractionSessions.RunningRefusal, await RefusalOfAsync(server.ClientOptions(user, token, "multi_subtask")));
        Assert.Equal(1, await InteractionsOfAsync(user));

        await using var again = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", first.InteractionId), Ct);
        Assert.Equal(first.InteractionId, again.InteractionId);
        Assert.Equal(RecorderStatus.Connect, again.Connected.Status);
        Assert.Equal(1, await InteractionsOfAsync(user));
    }

    [Fact]
    public async Task ConcurrentConnectsOfOneUserCreateOneInteraction()
    {
        var (user, token) = await server.NewUserAsync();
        var attempts = Enumerable.Range(0, 10).Select(async _ =>
        {
            try
            {
                return (Client: await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct), Refusal: (string?)null);
            }
            catch (RecorderConnectionRefusedException refused)
            {
                return (Client: (RecorderClient?)null, Refusal: refused.Reason);
            }
        }).ToList();
        var outcomes = await Task.WhenAll(attempts).WaitAsync(TestEnvironment.Timeout);
        try
        {
            Assert.Single(outcomes, o => o.Client is not null);
            Assert.All(outcomes.Where(o => o.Client is null), o => Assert.Equal(InteractionSessions.RunningRefusal, o.Refusal));
            Assert.Equal(1, await InteractionsOfAsync(user));
        }
        finally
        {
            foreach (var client in outcomes.Select(o => o.Client).OfType<RecorderClient>())
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AClientIdOfAnotherUsersInteractionIsRefused()
    {
        var (owner, ownerToken) = await server.NewUserAsync();
        await using var theirs = await RecorderClient.ConnectAsync(server.ClientOptions(owner, ownerToken, "multi_subtask"), Ct);

        var (intruder, intruderToken) = await server.NewUserAsync();
        var reason = await RefusalOfAsync(server.ClientOptions(intruder, intruderToken, "multi_subtask", theirs.InteractionId));
        Assert.Contains("another user", reason, StringComparison.Ordinal);
        Assert.Equal(0, await InteractionsOfAsync(intruder));
    }

    [Fact]
    public async Task ASymlinkOutOfTheRootIsRefused()
    {
        var outside = Directory.CreateTempSubdirectory("recorder-outside-");
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(server.RecordingsRoot, "escape"), outside.FullName);
            var (user, token) = await server.NewUserAsync();
            var reason = await RefusalOfAsync(server.ClientOptions(user, token, "escape"));
            Assert.Contains("symbolic link", reason, StringComparison.Ordinal);
            Assert.Equal(0, await InteractionsOfAsync(user));
        }
        finally
        {
            outside.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task TheRefusalIsAFailedEnvelopeAndThenTheServerCloses()
    {
        var received = new TaskCompletionSource<RecorderEnvelope>(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = RawConnection("nobody", "x");
        connection.On<RecorderEnvelope>(nameof(IRecorderClient.Message), e => received.TrySetResult(e));
        connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };

        await connection.StartAsync(Ct);
        var envelope = await received.Task.WaitAsync(TestEnvironment.Timeout);
        await closed.Task.WaitAsync(TestEnvironment.Timeout);

        Assert.Equal(RecorderStatus.Failed, envelope.Status);
        Assert.False(envelope.Success);
        Assert.Equal("user is not exist!", envelope.Message);
        Assert.Null(envelope.Data);
    }

    [Fact]
    public async Task ResumingAnotherUsersInteractionIsRefused()
    {
        var (owner, ownerToken) = await server.NewUserAsync();
        await using var theirs = await RecorderClient.ConnectAsync(server.ClientOptions(owner, ownerToken, "multi_subtask"), Ct);
        await Replays.RunToEndAsync(theirs);

        var (intruder, intruderToken) = await server.NewUserAsync();
        await using var connection = RawConnection(intruder, intruderToken);
        var received = new List<RecorderEnvelope>();
        connection.On<RecorderEnvelope>(nameof(IRecorderClient.Message), e => { lock (received) { received.Add(e); } });
        await connection.StartAsync(Ct);

        var error = await Assert.ThrowsAsync<HubException>(
            () => connection.InvokeAsync(nameof(IRecorderHub.Resume), theirs.InteractionId, 0L, Ct));
        Assert.Contains("is not yours", error.Message, StringComparison.Ordinal);
        lock (received)
        {
            Assert.DoesNotContain(received, e => e.Seq > 0);
        }
    }

    [Fact]
    public async Task AnOversizedMessageClosesThatConnectionOnlyAndTheServerStaysUp()
    {
        var (user, token) = await server.NewUserAsync();
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = RawConnection(user, token);
        connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        await connection.StartAsync(Ct);

        var huge = new string('x', (int)HubExtensions.MaximumReceiveMessageSize * 2);
        await Assert.ThrowsAnyAsync<Exception>(() => connection.InvokeAsync(nameof(IRecorderHub.Resume), huge, 0L, Ct));
        await closed.Task.WaitAsync(TestEnvironment.Timeout);

        var (other, otherToken) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(other, otherToken, "multi_subtask"), Ct);
        Assert.Equal(RecorderStatus.Connect, client.Connected.Status);
    }

    [Fact]
    public async Task ANegativeAfterSeqIsRefusedWithAClearError()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        var error = await Assert.ThrowsAsync<HubException>(() => client.ResumeAsync(-1, Ct));
        Assert.Contains("afterSeq", error.Message, StringComparison.Ordinal);
    }

    private HubConnection RawConnection(string userId, string token) => new HubConnectionBuilder()
        .WithUrl(new UriBuilder(server.HubUrl) { Query = TestQuery.Connect(userId, token, "multi_subtask") }.Uri)
        .AddJsonProtocol(o => RecorderProtocol.Configure(o.PayloadSerializerOptions))
        .Build();
}
