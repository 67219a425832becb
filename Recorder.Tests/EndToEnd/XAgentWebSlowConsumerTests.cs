using System.Diagnostics;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Hub.Delivery;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>An XAgent web socket that stops reading is reset by the same slow-consumer rule as a hub connection, and its client_id re-attaches and gets every raw.</summary>
public sealed class XAgentWebSlowConsumerTests(SlowConsumerHubServer server) : TimedTest(TestEnvironment.Timeout * 2), IClassFixture<SlowConsumerHubServer>
{
    [Fact]
    public async Task ASocketThatStopsReadingIsResetAfterTheTimeoutAndItsClientIdReattachesToEveryRaw()
    {
        var (user, token) = await server.NewUserAsync();
        var id = Guid.NewGuid().ToString("N");
        var query = XAgentWebClient.Query(user, token, "multi_subtask");
        using var slow = new ClientWebSocket();
        await slow.ConnectAsync(new UriBuilder(server.BaseUrl) { Scheme = "ws", Path = $"/ws/recorder/{id}", Query = query }.Uri, Ct);
        await Eventually.UntilAsync(
            () => server.QueryScalarAsync<long>("SELECT count(*) FROM hub_connections WHERE interaction_id = @id", new { id }),
            n => n == 1, TestEnvironment.Timeout, "the socket attached");
        await StuckConnection.WriteAsync(server, id, 1, StuckConnection.Raws, 32 * 1024, Ct);
        var subscriptions = server.Services.GetRequiredService<Subscriptions>();
        await Eventually.UntilAsync(() => Task.FromResult(subscriptions.Queued), n => n > 32, TestEnvironment.Timeout, "the socket's outbox to fill");
        var stuckSince = Stopwatch.StartNew();

        await Eventually.UntilAsync(
            () => server.QueryScalarAsync<long>("SELECT count(*) FROM hub_connections WHERE interaction_id = @id", new { id }),
            n => n == 0, TestEnvironment.Timeout, "the slow socket to be reset");
        Assert.True(stuckSince.Elapsed >= SlowConsumerHubServer.SlowConsumerTimeout - TimeSpan.FromSeconds(1), $"reset after {stuckSince.Elapsed}");

        await using var reader = await XAgentWebClient.ConnectAsync(server.BaseUrl, id, query, Ct, sendRecorder: false);
        await reader.UntilAsync(f => f.Count(x => x.Seq > 0) >= StuckConnection.Raws, Ct);
        Assert.Equal(Enumerable.Range(1, StuckConnection.Raws).Select(i => (long)i), reader.Raws.Select(f => f.Seq));
    }
}
