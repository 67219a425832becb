using System.Net;
using System.Text.Json;
using Recorder.Client;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A hub that allows 10 connect requests per user_id per minute.</summary>
public sealed class RateLimitedHubServer : HubServer
{
    public const int PerMinute = 10;

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("Recorder:Auth:ConnectsPerUserPerMinute", PerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture))];
}

public sealed class RateLimitTests(RateLimitedHubServer server) : TimedTest, IClassFixture<RateLimitedHubServer>
{
    [Fact]
    public async Task TokenGuessesForOneUserAreCutOffWith429AndOtherUsersConnectAsBefore()
    {
        var (victim, _) = await server.NewUserAsync();
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        var statuses = new List<HttpStatusCode>();
        for (var guess = 0; guess < RateLimitedHubServer.PerMinute + 5; guess++)
        {
            using var response = await http.PostAsync(TestQuery.Url("/hubs/recorder/negotiate?negotiateVersion=1", victim, $"guess-{guess}"), null, Ct);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
                Assert.Equal(Recorder.Hub.Auth.ConnectRateLimiting.Refusal, body.RootElement.GetProperty("error").GetString());
                Assert.Equal("60", response.Headers.GetValues("Retry-After").Single());
            }
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, RateLimitedHubServer.PerMinute), statuses.Take(RateLimitedHubServer.PerMinute));
        Assert.All(statuses.Skip(RateLimitedHubServer.PerMinute), status => Assert.Equal(HttpStatusCode.TooManyRequests, status));

        // The limit is the victim's alone: another user connects and replays as usual.
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        var messages = await Replays.RunToEndAsync(client);
        Replays.AssertGapFreeFromOne(messages);
    }
}
