using System.Net;
using System.Text.Json;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Hostile;

/// <summary>
/// Bad HTTP requests on the negotiate endpoint, <c>/api/*</c> and <c>/ws/recorder/{client_id}</c>: each gets a 4xx
/// (the documented status and <c>{"error"}</c> text where there is one), never a 5xx; nothing is written and the
/// server still serves.
/// </summary>
public sealed class HostileHttpTests(HubServer server) : IClassFixture<HubServer>
{
    private static readonly HttpClient Http = new() { Timeout = TestEnvironment.Timeout };

    /// <summary>(method, path and query with {user}/{token} of the case's user, extra header "Name: value" or "", expected status, expected error text or "").</summary>
    public static TheoryData<string, string, string, int, string> Cases()
    {
        var cases = new TheoryData<string, string, string, int, string>
        {
            { "GET", "/api/recordings", "", 401, "user is not exist!" },
            { "GET", "/api/recordings?user_id={user}", "", 401, "user is not available!" },
            { "GET", "/api/recordings?user_id={user}&token={token}x", "", 401, "user is not available!" },
            { "GET", "/api/recordings?user_id=" + new string('u', 300) + "&token=x", "", 401, "user is not exist!" },
            { "GET", "/api/recordings?user_id=%00&token=%00", "", 401, "user is not exist!" },
            { "GET", "/api/recordings?user_id='%20OR%201%3D1--&token=x", "", 401, "user is not exist!" },
            { "GET", "/api/recordings", "X-Recorder-User-Id: nobody", 401, "user is not exist!" },
            { "GET", "/api/recordings?user_id={user}", "X-Recorder-Token: wrong", 401, "user is not available!" },
            { "GET", "/ws/recorder/abc", "", 400, "" },
            { "GET", "/ws/recorder/abc?user_id={user}&token={token}&recorder_dir=multi_subtask", "", 400, "" },
            { "GET", "/ws/recorder/" + new string('c', 65) + "?user_id={user}&token={token}&recorder_dir=multi_subtask", "", 400, "" },
            { "GET", "/api/recordings?" + new string('q', 20000), "", 414, "" },
            { "GET", "/healthz", "X-Big: " + new string('h', 40000), 431, "" },
        };
        foreach (var (method, path) in new[]
                 {
                     ("PUT", "/api/recordings"), ("DELETE", "/api/recordings"), ("PATCH", "/api/recordings"), ("POST", "/api/recordings"),
                     ("GET", "/api/recordings/../../etc/passwd"), ("GET", "/api/nosuch"), ("GET", "/api/recordings/x"), ("GET", "/api/%00"),
                     ("GET", "/api/workspace/file"), ("DELETE", "/api/workspace/file"), ("PUT", "/hubs/recorder/negotiate"),
                     ("DELETE", "/hubs/recorder/negotiate"), ("PATCH", "/hubs/recorder/negotiate"), ("GET", "/hubs/recorder/negotiate"),
                     ("GET", "/hubs/recorder/nosuch"), ("GET", "/hubs/nosuch/negotiate"), ("POST", "/hubs/recorder/negotiate/../../healthz/x"),
                     ("POST", "/ws/recorder/abc"), ("PUT", "/ws/recorder/abc"), ("GET", "/ws/recorder/"), ("GET", "/ws/recorder/a%2Fb"),
                     ("GET", "/ws/recorder/%00"), ("POST", "/healthz"), ("TRACE", "/healthz"), ("GET", "/%2e%2e/%2e%2e/etc/passwd"),
                     ("GET", "/" + new string('p', 4000)),
                 })
        {
            cases.Add(method, path, "", 0, "");
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ABadRequestGetsAClearClientErrorAndChangesNothing(string method, string path, string header, int status, string error)
    {
        var (userId, token) = await server.NewUserAsync();
        var before = await HostileChecks.RowsAsync(server, userId);
        using var request = new HttpRequestMessage(new HttpMethod(method),
            server.BaseUrl + path.TrimStart('/').Replace("{user}", userId, StringComparison.Ordinal).Replace("{token}", token, StringComparison.Ordinal));
        if (header.Length > 0)
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            request.Headers.TryAddWithoutValidation(header[..colon], header[(colon + 2)..]);
        }

        using var response = await Http.SendAsync(request).WaitAsync(TestEnvironment.Timeout);
        var code = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync().WaitAsync(TestEnvironment.Timeout);
        if (status == 0)
        {
            Assert.True(code is >= 400 and < 500, $"{method} {path}: {code} {body}");
        }
        else
        {
            Assert.Equal((HttpStatusCode)status, response.StatusCode);
        }

        if (error.Length > 0)
        {
            using var document = JsonDocument.Parse(body);
            Assert.Equal(error, document.RootElement.GetProperty("error").GetString());
        }

        Assert.Equal(before, await HostileChecks.RowsAsync(server, userId));
        await HostileChecks.AssertUpAsync(server);
    }

    [Fact]
    public Task AfterTheHostileRequestsAHealthyReplayStillWorks() => HostileChecks.AssertHealthyReplayAsync(server);
}
