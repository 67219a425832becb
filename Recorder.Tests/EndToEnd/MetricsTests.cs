using System.Globalization;
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
        var before = await ScrapeAsync(http);

        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        var messages = await Replays.RunToEndAsync(client);
        Assert.NotEmpty(messages);
        var written = await server.QueryScalarAsync<long>("SELECT count(*) FROM raw WHERE interaction_id = @id", new { id = client.InteractionId });
        Assert.Equal(messages.Count, written);

        // The counters move once each write completes, which may be just after the client has the envelope.
        var after = await Eventually.UntilAsync(() => ScrapeAsync(http),
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
        var before = await ScrapeAsync(http);
        var (user, token) = await server.NewUserAsync();
        await Assert.ThrowsAsync<RecorderConnectionRefusedException>(() =>
            RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", clientId: "not valid!"), Ct));
        var after = await Eventually.UntilAsync(() => ScrapeAsync(http),
            m => Delta(m, before, "recorder_connects_refused_total{reason=\"client_id\"}") >= 1, TestEnvironment.Timeout, "the refusal to be counted");
        Assert.Equal(1, Delta(after, before, "recorder_connects_refused_total{reason=\"client_id\"}"));
    }

    /// <summary>
    /// The Prometheus text: each sample under its name, and under its name with its labels (less the scope's) when
    /// it has any; several samples of one name add up under the bare name.
    /// </summary>
    private async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http)
    {
        var text = await http.GetStringAsync("/metrics", Ct);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            var series = line[..space];
            var head = series.Split(' ')[0];
            if (double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) is false)
            {
                // "name value timestamp": the value is the second field.
                var fields = line.Split(' ');
                head = fields[0];
                value = double.Parse(fields[1], CultureInfo.InvariantCulture);
            }

            var brace = head.IndexOf('{', StringComparison.Ordinal);
            var name = brace < 0 ? head : head[..brace];
            samples[name] = samples.GetValueOrDefault(name) + value;
            if (brace >= 0)
            {
                var labels = head[(brace + 1)..^1].Split(',').Where(l => !l.StartsWith("otel_scope_", StringComparison.Ordinal)).ToArray();
                if (labels.Length > 0)
                {
                    var key = $"{name}{{{string.Join(',', labels)}}}";
                    samples[key] = samples.GetValueOrDefault(key) + value;
                }
            }
        }

        return samples;
    }

    private static double Delta(Dictionary<string, double> after, Dictionary<string, double> before, string name) =>
        after.GetValueOrDefault(name) - before.GetValueOrDefault(name);
}
