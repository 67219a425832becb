using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Hub.Auth;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// The abuse limits of <c>Recorder:Auth</c>, each on an instance of its own with a low limit: over it, a clear
/// refusal and nothing changed; other users go on as before.
/// </summary>
public sealed class AbuseLimitTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    [Fact]
    public async Task AfterTooManyWrongTokensEvenTheRightOneIsRefusedWithoutALookupAndOtherUsersConnect()
    {
        await using var instance = await server.StartAsync([new("Recorder:Auth:FailuresPerUser", "3")], Ct);
        var (victim, token) = await server.NewUserAsync();
        for (var guess = 0; guess < 3; guess++)
        {
            Assert.Equal("user is not available!", await RefusalAsync(instance, server.ClientOptions(victim, $"guess-{guess}", "multi_subtask")));
        }

        Assert.Equal(FailedAuthentications.Refusal, await RefusalAsync(instance, server.ClientOptions(victim, token, "multi_subtask")));
        Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE user_id = @victim", new { victim }));

        var (other, otherToken) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(other, otherToken, "multi_subtask", hubUrl: HubUrl(instance)), Ct);
        Replays.AssertGapFreeFromOne(await Replays.RunToEndAsync(client));
    }

    [Fact]
    public async Task AfterTooManyFailuresFromOneAddressNoUserIsLookedUpFromIt()
    {
        await using var instance = await server.StartAsync([new("Recorder:Auth:FailuresPerAddress", "4")], Ct);
        for (var user = 0; user < 4; user++)
        {
            Assert.Equal("user is not exist!", await RefusalAsync(instance, server.ClientOptions($"nobody-{user}-{Guid.NewGuid():N}", "x", "multi_subtask")));
        }

        var (valid, token) = await server.NewUserAsync();
        Assert.Equal(FailedAuthentications.Refusal, await RefusalAsync(instance, server.ClientOptions(valid, token, "multi_subtask")));

        // The fixture's instance keeps its own counts: the same user connects there.
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(valid, token, "multi_subtask"), Ct);
        Assert.Equal(RecorderStatus.Connect, client.Connected.Status);
    }

    [Fact]
    public async Task ConnectRequestsFromOneAddressAreCutOffWith429WhateverTheUser()
    {
        await using var instance = await server.StartAsync([new("Recorder:Auth:ConnectsPerAddressPerMinute", "5")], Ct);
        using var http = new HttpClient { BaseAddress = new Uri(instance.Urls.First()) };
        var statuses = new List<HttpStatusCode>();
        for (var request = 0; request < 8; request++)
        {
            using var response = await http.PostAsync(TestQuery.Url("/hubs/recorder/negotiate?negotiateVersion=1", $"user{request}", "t"), null, Ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
                Assert.Equal(ConnectRateLimiting.Refusal, body.RootElement.GetProperty("error").GetString());
            }
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 5), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], statuses);

        // Only the hub's connect requests count: the page and health are served as usual.
        using var health = await http.GetAsync("/healthz", Ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task WithCheckRunningOffAUserHasAtMostTheConfiguredLiveInteractionsButReattachesToThem()
    {
        await using var instance = await server.StartAsync(
            [new("Recorder:Auth:CheckRunning", "false"), new("Recorder:Auth:LiveInteractionsPerUser", "2")], Ct);
        var (user, token) = await server.NewUserAsync();
        await using var first = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", hubUrl: HubUrl(instance)), Ct);
        await using var second = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", hubUrl: HubUrl(instance)), Ct);

        Assert.Equal("You have 2 interactions that are not over, the most allowed; wait for one to finish.",
            await RefusalAsync(instance, server.ClientOptions(user, token, "multi_subtask")));
        Assert.Equal(2, await server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE user_id = @user", new { user }));

        await using var again = await RecorderClient.ConnectAsync(
            server.ClientOptions(user, token, "multi_subtask", first.InteractionId, HubUrl(instance)), Ct);
        Assert.Equal(first.InteractionId, again.InteractionId);
    }

    [Fact]
    public async Task AUserHasAtMostTheConfiguredConnectionsAndConnectsAgainOnceOneCloses()
    {
        await using var instance = await server.StartAsync([new("Recorder:Auth:ConnectionsPerUser", "2")], Ct);
        var (user, token) = await server.NewUserAsync();
        var first = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", hubUrl: HubUrl(instance)), Ct);
        await using var second = await RecorderClient.ConnectAsync(
            server.ClientOptions(user, token, "multi_subtask", first.InteractionId, HubUrl(instance)), Ct);

        Assert.Equal("You have 2 open connections, the most allowed; close one first.",
            await RefusalAsync(instance, server.ClientOptions(user, token, "multi_subtask", first.InteractionId)));

        await first.DisposeAsync();
        await Eventually.UntilAsync(
            () => server.QueryScalarAsync<long>("SELECT count(*) FROM hub_connections WHERE interaction_id = @id", new { id = second.InteractionId }),
            n => n == 1, TestEnvironment.Timeout, "the closed connection detached");
        await using var third = await RecorderClient.ConnectAsync(
            server.ClientOptions(user, token, "multi_subtask", second.InteractionId, HubUrl(instance)), Ct);
        Assert.Equal(second.InteractionId, third.InteractionId);
    }

    [Fact]
    public async Task ResumeIsLimitedPerConnectionInCallsAndInInteractionsAttached()
    {
        await using var instance = await server.StartAsync(
            [new("Recorder:Auth:ResumesPerConnectionPerSecond", "2"), new("Recorder:Auth:InteractionsPerConnection", "2")], Ct);
        var (user, token) = await server.NewUserAsync();
        var past = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            await using var done = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", hubUrl: HubUrl(instance)), Ct);
            await Replays.RunToEndAsync(done);
            past.Add(done.InteractionId);
        }

        await using var connection = await ConnectRawAsync(instance, user, token);

        // Its own interaction and one more are allowed; a third is refused, and so is a burst of calls.
        await connection.InvokeAsync("Resume", past[0], 0L, Ct);
        var third = await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync("Resume", past[1], 0L, Ct));
        Assert.Contains("this connection is attached to 2 interactions, the most allowed; open another connection.", third.Message, StringComparison.Ordinal);

        var refused = 0;
        for (var call = 0; call < 10; call++)
        {
            try
            {
                await connection.InvokeAsync("Resume", past[0], 0L, Ct);
            }
            catch (HubException exception) when (exception.Message.Contains("too many Resume calls on this connection", StringComparison.Ordinal))
            {
                refused++;
            }
        }

        Assert.InRange(refused, 1, 10);
    }

    private static Uri HubUrl(WebApplication instance) => new(new Uri(instance.Urls.First()), RecorderProtocol.HubPath);

    private async Task<string> RefusalAsync(WebApplication instance, RecorderClientOptions options)
    {
        var refused = await Assert.ThrowsAsync<RecorderConnectionRefusedException>(
            () => RecorderClient.ConnectAsync(options with { HubUrl = HubUrl(instance) }, Ct));
        return refused.Reason;
    }

    private async Task<HubConnection> ConnectRawAsync(WebApplication instance, string user, string token)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new UriBuilder(HubUrl(instance)) { Query = TestQuery.Connect(user, token, "multi_subtask") }.Uri)
            .Build();
        var connected = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On<JsonElement>("Message", envelope => connected.TrySetResult(envelope));
        await connection.StartAsync(Ct);
        Assert.Equal("connect", (await connected.Task.WaitAsync(TestEnvironment.Timeout)).GetProperty("status").GetString());
        return connection;
    }
}
