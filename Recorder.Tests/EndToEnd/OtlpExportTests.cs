using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Hub.Metrics;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// OTLP export for real: a hub with <c>Recorder:Telemetry:OtlpEndpoint</c> and http/protobuf sends to a receiver on
/// 127.0.0.1 that keeps what it is posted. Protobuf strings are raw UTF-8, so the names are searched in the bytes.
/// </summary>
[Collection(nameof(MetricsTests))]
public sealed class OtlpExportTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    [Fact]
    public async Task AReplayIsExportedAsARunSpanAndTheRecorderInstruments()
    {
        var posted = new ConcurrentQueue<(string Path, byte[] Body)>();
        var receiverBuilder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--urls=http://127.0.0.1:0"] });
        receiverBuilder.Logging.ClearProviders();
        await using var receiver = receiverBuilder.Build();
        receiver.MapPost("/{**path}", async (HttpRequest request, string path) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
            posted.Enqueue(("/" + path, body.ToArray()));
            return Results.Ok();
        });
        await receiver.StartAsync(Ct);

        await using var instance = await server.StartAsync(
        [
            new("Recorder:Telemetry:OtlpEndpoint", receiver.Urls.First()),
            new("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            // Export often, so that the test waits for a replay, not for the default 5 s (traces) and 60 s (metrics).
            new("OTEL_BSP_SCHEDULE_DELAY", "200"),
            new("OTEL_METRIC_EXPORT_INTERVAL", "500"),
        ], Ct);
        var (user, token) = await server.NewUserAsync();
        var hubUrl = new Uri(new Uri(instance.Urls.First()), RecorderProtocol.HubPath);
        await using (var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", hubUrl: hubUrl), Ct))
        {
            Assert.NotEmpty(await Replays.RunToEndAsync(client));
        }

        // A span's name is field 5 of Span: tag 0x2A, its length, its bytes.
        byte[] runSpan = [0x2A, 3, .. "run"u8];
        await Eventually.UntilAsync(() => Task.FromResult(posted.ToArray()),
            all => all.Any(p => p.Path == "/v1/traces" && p.Body.AsSpan().IndexOf(runSpan) >= 0)
                && all.Any(p => p.Path == "/v1/metrics" && p.Body.AsSpan().IndexOf("recorder.raws.appended"u8) >= 0),
            TestEnvironment.Timeout, "a traces export with the run span and a metrics export with recorder.raws.appended");
        Assert.All(posted, p => Assert.Contains(p.Path, new[] { "/v1/traces", "/v1/metrics" }));
        Assert.Contains(posted, p => p.Path == "/v1/traces" && Encoding.UTF8.GetString(p.Body).Contains(RecorderMetrics.Name, StringComparison.Ordinal));
    }
}
