using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Recorder.Hub.Recordings;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

public sealed class RecordingsApiTests(HubServer server) : IClassFixture<HubServer>
{
    [Fact]
    public async Task AnAuthenticatedUserSeesTheRecordingFolders()
    {
        var (user, token) = await server.NewUserAsync();
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, TestQuery.Url(RecordingsApi.Path, user, token));
        using var response = await http.SendAsync(request).WaitAsync(TestEnvironment.Timeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var entries = await response.Content.ReadFromJsonAsync<List<JsonElement>>().WaitAsync(TestEnvironment.Timeout);
        var folders = entries!.Where(e => e.GetProperty("source").GetString() == "folder").Select(e => e.GetProperty("recorder_dir").GetString()).ToList();
        var expected = Directory.EnumerateDirectories(server.RecordingsRoot)
            .Where(d => File.Exists(Path.Combine(d, "query.json"))).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, folders);
        Assert.Contains("multi_subtask", folders);
    }

    [Fact]
    public async Task AWrongTokenGets401WithTheReason()
    {
        var (user, _) = await server.NewUserAsync();
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        using var response = await http.GetAsync(TestQuery.Url(RecordingsApi.Path, user, "wrong")).WaitAsync(TestEnvironment.Timeout);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(TestEnvironment.Timeout);
        Assert.Equal("user is not available!", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task WithoutCredentialsTheApiRefusesButHealthAnswers()
    {
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        using var refused = await http.GetAsync(RecordingsApi.Path).WaitAsync(TestEnvironment.Timeout);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var body = await refused.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(TestEnvironment.Timeout);
        Assert.Equal("user is not exist!", body.GetProperty("error").GetString());

        using var health = await http.GetAsync("/healthz").WaitAsync(TestEnvironment.Timeout);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
