using System.Net;
using System.Text.Json;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Hub.Rest;
using Recorder.Tests.EndToEnd;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Rest;

public sealed class InteractionsApiTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string pathAndQuery)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        using var response = await http.GetAsync(pathAndQuery).WaitAsync(TestEnvironment.Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TestEnvironment.Timeout);
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task TheCallersInteractionsAreListedNewestFirstInPages()
    {
        var (user, token) = await server.NewUserAsync();
        var (other, otherToken) = await server.NewUserAsync();
        var created = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            // One running interaction per user (check_running): each is replayed to its end before the next.
            await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
            await Replays.RunToEndAsync(client);
            created.Add(client.InteractionId);
        }

        await using (await RecorderClient.ConnectAsync(server.ClientOptions(other, otherToken, "multi_subtask"), Ct))
        {
        }

        var (status, first) = await GetAsync(TestQuery.Url(RestExtensions.InteractionsPath, user, token, ("limit", 2)));
        Assert.Equal(HttpStatusCode.OK, status);
        var next = first.GetProperty("next").GetString();
        Assert.NotNull(next);

        // Keyset paging: an interaction created between two pages does not shift the next one (an offset would
        // repeat the last interaction of the first page).
        await using (var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct))
        {
            await Replays.RunToEndAsync(client);
        }

        var (_, second) = await GetAsync(TestQuery.Url(RestExtensions.InteractionsPath, user, token, ("limit", 2), ("cursor", next)));

        var ids = first.GetProperty("interactions").EnumerateArray().Concat(second.GetProperty("interactions").EnumerateArray())
            .Select(i => i.GetProperty("interaction_id").GetString()).ToList();
        Assert.Equal(Enumerable.Reverse(created), ids);
        Assert.Equal(2, first.GetProperty("limit").GetInt32());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
        Assert.Equal("multi_subtask", first.GetProperty("interactions")[0].GetProperty("recorder_dir").GetString());
    }

    [Fact]
    public async Task RawsAreTheEnvelopesAHubClientReceived()
    {
        var (user, token) = await server.NewUserAsync();
        List<RecorderEnvelope> received;
        string id;
        await using (var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct))
        {
            received = await Replays.RunToEndAsync(client);
            id = client.InteractionId;
        }

        var (status, all) = await GetAsync(TestQuery.Url($"{RestExtensions.InteractionsPath}/{id}/raws", user, token, ("after_seq", 0), ("limit", 500)));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(received, m => m.Data?.GetRawText().Contains("file_data", StringComparison.Ordinal) == true);
        Assert.Equal(
            received.Select(m => JsonSerializer.Serialize(m, RecorderProtocol.JsonOptions)),
            all.EnumerateArray().Select(e => JsonSerializer.Serialize(e.Deserialize<RecorderEnvelope>(RecorderProtocol.JsonOptions), RecorderProtocol.JsonOptions)));

        var (_, page) = await GetAsync(TestQuery.Url($"{RestExtensions.InteractionsPath}/{id}/raws", user, token, ("after_seq", 5), ("limit", 3)));
        Assert.Equal([6L, 7, 8], page.EnumerateArray().Select(e => e.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task AnotherUsersOrAMissingInteractionIs404AndBadParametersAre400()
    {
        var (owner, ownerToken) = await server.NewUserAsync();
        var (user, token) = await server.NewUserAsync();
        string id;
        await using (var client = await RecorderClient.ConnectAsync(server.ClientOptions(owner, ownerToken, "multi_subtask"), Ct))
        {
            id = client.InteractionId;
        }

        var (status, body) = await GetAsync(TestQuery.Url($"{RestExtensions.InteractionsPath}/{id}/raws", user, token));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains(id, body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(TestQuery.Url($"{RestExtensions.InteractionsPath}/nosuch/raws", user, token))).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(TestQuery.Url($"{RestExtensions.InteractionsPath}/{id}/raws", owner, ownerToken))).Status);

        var (badLimit, limitBody) = await GetAsync(TestQuery.Url(RestExtensions.InteractionsPath, user, token, ("limit", 0)));
        Assert.Equal(HttpStatusCode.BadRequest, badLimit);
        Assert.Contains("limit", limitBody.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await GetAsync(TestQuery.Url($"{RestExtensions.InteractionsPath}/{id}/raws", owner, ownerToken, ("after_seq", -1)))).Status);
        foreach (var cursor in new[] { "abc", "not base64!", Convert.ToBase64String("x.y"u8.ToArray()).TrimEnd('='), "" })
        {
            var (badCursor, cursorBody) = await GetAsync(TestQuery.Url(RestExtensions.InteractionsPath, user, token, ("cursor", cursor)));
            Assert.Equal(HttpStatusCode.BadRequest, badCursor);
            Assert.Contains("cursor is not one this API gave", cursorBody.GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(TestQuery.Url(RestExtensions.InteractionsPath, user, "wrong"))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync($"{RestExtensions.InteractionsPath}/{id}/raws")).Status);
    }

    [Fact]
    public async Task TheOpenApiDocumentListsTheEndpoints()
    {
        var (status, doc) = await GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, status);
        var paths = doc.GetProperty("paths");
        Assert.True(paths.GetProperty("/api/recordings").TryGetProperty("post", out _), "POST /api/recordings");
        Assert.True(paths.GetProperty("/api/recordings").TryGetProperty("get", out _), "GET /api/recordings");
        Assert.True(paths.GetProperty("/api/interactions").TryGetProperty("get", out _), "GET /api/interactions");
        Assert.True(paths.GetProperty("/api/interactions/{id}/raws").TryGetProperty("get", out _), "GET /api/interactions/{id}/raws");
    }
}
