using Recorder.Client;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

[Collection(nameof(MetricsTests))]
public sealed class MetricsTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    [Fact]
    public async Task MetricsAfterAReplayCountTheRawsAppendedAndPushedThatTheClientReceived()
    {
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        var before = await PrometheusText.ScrapeAsync(http, Ct);

        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        var messages = await Replays.RunToEndAsync(client);
        Assert.NotEmpty(messages);
        var written = await server.QueryScalarAsync<long>("SELECT count(*) FROM raw WHERE interaction_id = @id", new { id = client.InteractionId });
        Assert.Equal(messages.Count, written);

        // The counters move once each write completes, which may be just after the client has the envelope.
        var after = await Eventually.UntilAsync(() => PrometheusText.ScrapeAsync(http, Ct),
            m => Delta(m, before, "recorder_raws_pushed_total") >= messages.Count, TestEnvironment.Timeout, "the pushed count to catch up");
        Assert.Equal(messages.Count, Delta(after, before, "recorder_raws_appended_total"));
        Assert.Equal(messages.Count, Delta(after, before, "recorder_raws_pushed_total"));
        var latencies = Delta(after, before, "recorder_raws_commit_to_send_seconds_count");
        Assert.InRange(latencies, 1, messages.Count);
        Assert.Equal(1, Delta(after, before, "recorder_connects_total"));
        Assert.Equal(0, Delta(after, before, "recorder_raws_append_failures_total"));
        Assert.True(after.ContainsKey("recorder_connections_attached"), "the attached-connections gauge is exported");
        Assert.True(after.Keys.Any(k => k.StartsWith("http_server_request_duration_seconds", StringComparison.Ordinal)), "ASP.NET Core's meter is exported");
    }

    [Fact]
    public async Task RefusalsAreCountedByReason()
    {
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        var before = await PrometheusText.ScrapeAsync(http, Ct);
        var (user, token) = await server.NewUserAsync();
        await Assert.ThrowsAsync<RecorderConnectionRefusedException>(() =>
            RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", clientId: "not valid!"), Ct));
        var after = await Eventually.UntilAsync(() => PrometheusText.ScrapeAsync(http, Ct),
            m => Delta(m, before, "recorder_connects_refused_total{reason=\"client_id\"}") >= 1, TestEnvironment.Timeout, "the refusal to be counted");
        Assert.Equal(1, Delta(after, before, "recorder_connects_refused_total{reason=\"client_id\"}"));
    }

    private static double Delta(Dictionary<string, double> after, Dictionary<string, double> before, string name) =>
        after.GetValueOrDefault(name) - before.GetValueOrDefault(name);
}
