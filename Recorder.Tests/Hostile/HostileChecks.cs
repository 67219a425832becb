using System.Net;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Hostile;

/// <summary>What every hostile case checks besides its own error: the rows it must not change, and that the server still serves.</summary>
public static class HostileChecks
{
    private static readonly HttpClient Http = new() { Timeout = TestEnvironment.Timeout };

    /// <summary>
    /// The rows of users, interactions, raw and hub_connections for <paramref name="userId"/> (its interactions'), and
    /// the whole tables' counts: "users/interactions/raw/connections | all users/all interactions/all raws".
    /// </summary>
    public static Task<string> RowsAsync(HubServer server, string userId) => server.QueryScalarAsync<string>(
        """
        SELECT (SELECT count(*) FROM users WHERE user_id = @userId) || '/' ||
               (SELECT count(*) FROM interactions WHERE user_id = @userId) || '/' ||
               (SELECT count(*) FROM raw r JOIN interactions i USING (interaction_id) WHERE i.user_id = @userId) || '/' ||
               (SELECT count(*) FROM hub_connections c JOIN interactions i USING (interaction_id) WHERE i.user_id = @userId) || ' | ' ||
               (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM interactions) || '/' || (SELECT count(*) FROM raw)
        """, new { userId });

    /// <summary>The cheap per-case probe: <c>/healthz</c> still answers 200 "ok".</summary>
    public static async Task AssertUpAsync(HubServer server)
    {
        using var response = await Http.GetAsync(new Uri(server.BaseUrl, "/healthz")).WaitAsync(TestEnvironment.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>The check per class: a whole healthy replay of multi_subtask, by a plain client, each raw once in seq order.</summary>
    public static async Task AssertHealthyReplayAsync(HubServer server)
    {
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
        var (userId, token) = await server.NewUserAsync();
        await using var client = await PlainClient.ConnectAsync(server.HubUrl, userId, token, "multi_subtask", timeout.Token);
        await client.StartRecorderAsync(timeout.Token);
        await client.Ended.WaitAsync(TestEnvironment.Timeout);
        var raws = client.Raws;
        Assert.Equal(Enumerable.Range(1, raws.Count).Select(i => (long)i), raws.Select(r => r.Seq));
        Assert.Equal("running", raws[0].Status);
        Assert.Equal("finished", raws[^1].Status);
    }
}
