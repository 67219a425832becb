using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>Readiness that looks again every second, for the outage tests.</summary>
public sealed class HealthHubServer : HubServer
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Recorder:Health:ReadinessPeriod", "00:00:01"),
        new("Recorder:Health:CheckTimeout", "00:00:01"),
    ];
}

public sealed class HealthTests(HealthHubServer server) : TimedTest, IClassFixture<HealthHubServer>
{
    [Fact]
    public async Task ReadyAndLiveAre200WithEveryCheckNamedWhenEverythingIsUp()
    {
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        var (status, body) = await GetAsync(http, "/health/ready");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        var checks = body.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("postgresql").GetProperty("status").GetString());
        Assert.Contains("migrated", checks.GetProperty("postgresql").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("Healthy", checks.GetProperty("notify_listener").GetProperty("status").GetString());
        Assert.False(checks.TryGetProperty("redis", out _), "no Redis is configured, so there is no Redis check");

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/health/live")).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/healthz")).Status);
    }

    [Fact]
    public async Task ReadyIs503NamingPostgresWhenItIsCutAndLiveStays200()
    {
        await using var proxy = new TcpProxy(new Uri($"tcp://127.0.0.1:{new Npgsql.NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString).Port}"));
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(server.Database.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port }.ConnectionString;
        await using var app = await server.StartAsync([new("ConnectionStrings:Recorder", connection)], Ct);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        await Eventually.UntilAsync(() => GetAsync(http, "/health/ready"), r => r.Status == HttpStatusCode.OK, TestEnvironment.Timeout, "ready with PostgreSQL up");

        proxy.Pause();
        try
        {
            var (status, body) = await Eventually.UntilAsync(() => GetAsync(http, "/health/ready"), r => r.Status != HttpStatusCode.OK, TestEnvironment.Timeout, "ready to fail");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("Unhealthy", body.GetProperty("checks").GetProperty("postgresql").GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/health/live")).Status);
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/healthz")).Status);
        }
        finally
        {
            proxy.Unpause();
        }

        await Eventually.UntilAsync(() => GetAsync(http, "/health/ready"), r => r.Status == HttpStatusCode.OK, TestEnvironment.Timeout, "ready again");
    }

    [Fact]
    public async Task WithRedisDownReadyIs503NamingRedisAndNewConnectionsAreRefusedAtOnceSayingWhy()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var app = await server.StartAsync([new("ConnectionStrings:Redis", redis.ConnectionString)], Ct);
        var baseUrl = new Uri(app.Urls.First());
        using var http = new HttpClient { BaseAddress = baseUrl };
        var (_, up) = await Eventually.UntilAsync(() => GetAsync(http, "/health/ready"), r => r.Status == HttpStatusCode.OK, TestEnvironment.Timeout, "ready with Redis up");
        Assert.Equal("Healthy", up.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());

        var (user, token) = await server.NewUserAsync();
        redis.Stop();
        try
        {
            var (status, body) = await Eventually.UntilAsync(() => GetAsync(http, "/health/ready"), r => r.Status != HttpStatusCode.OK, TestEnvironment.Timeout, "ready to fail");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("Unhealthy", body.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
            Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("postgresql").GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, "/health/live")).Status);

            // The XAgent socket (SignalR's connections wait on the Redis backplane before the hub sees them).
            var clientId = Guid.NewGuid().ToString("N");
            await using var socket = await XAgentWebClient.ConnectAsync(baseUrl, clientId, XAgentWebClient.Query(user, token, "multi_subtask"), Ct);
            var refusal = await socket.First.WaitAsync(TestEnvironment.Timeout);
            Assert.Equal("failed", refusal.Status);
            // The failed check by name, nothing of the driver's message (hosts, ports, internals): that is /health/ready's.
            Assert.Equal("the hub is not ready: redis", refusal.Json.GetProperty("message").GetString());

            // SignalR clients would wait on the backplane: they are answered at once, with the reason where the
            // protocol carries one (negotiate's error), with 503 where it does not (a WebSocket opened directly).
            var hubPath = TestQuery.Url(RecorderProtocol.HubPath, user, token, (RecorderProtocol.RecorderDirKey, "multi_subtask"));
            await using var negotiating = new HubConnectionBuilder().WithUrl(new Uri(baseUrl, hubPath)).Build();
            var negotiateError = await Assert.ThrowsAnyAsync<Exception>(() => negotiating.StartAsync(Ct).WaitAsync(TestEnvironment.Timeout));
            Assert.Contains("the hub is not ready: redis", negotiateError.Message, StringComparison.Ordinal);
            await using var direct = new HubConnectionBuilder().WithUrl(new Uri(baseUrl, hubPath), o =>
            {
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
            }).Build();
            var directError = await Assert.ThrowsAnyAsync<Exception>(() => direct.StartAsync(Ct).WaitAsync(TestEnvironment.Timeout));
            Assert.Contains("503", directError.Message, StringComparison.Ordinal);
            using (var response = await http.GetAsync(hubPath, Ct))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.Equal("the hub is not ready: redis", await response.Content.ReadAsStringAsync(Ct));
            }

            Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE user_id = @user", new { user }));
        }
        finally
        {
            await redis.StartAgainAsync();
        }

        await Eventually.UntilAsync(() => GetAsync(http, "/health/ready"), r => r.Status == HttpStatusCode.OK, TestEnvironment.Timeout, "ready again");
    }

    [Fact]
    public async Task AHubConnectionToANotReadyInstanceIsDroppedForAReconnectNotRefusedAndIsTakenOnceItIsReady()
    {
        // Not ready for as long as the test wants: the newest migration hidden from the journal.
        var (user, token) = await server.NewUserAsync();
        await using var app = await server.StartAsync(Ct);
        var baseUrl = new Uri(app.Urls.First());
        var hubUrl = new Uri(baseUrl, Recorder.Client.Contracts.RecorderProtocol.HubPath);
        using var http = new HttpClient { BaseAddress = baseUrl };
        const string Hide = "UPDATE schemaversions SET scriptname = @from WHERE scriptname = @to";
        var script = Recorder.Data.Migrations.DatabaseMigrator.NewestScript;
        await server.QueryAsync<int>(Hide, new { from = script + ".hidden", to = script });
        try
        {
            await Eventually.UntilAsync(() => GetAsync(http, "/health/ready"), r => r.Status != HttpStatusCode.OK, TestEnvironment.Timeout, "ready to fail");

            // A refusal would be final for the clients (Recorder.Client, the JS client, a plain SignalR client told not
            // to reconnect); a passing state drops the connection without one, so that they come back.
            // The drop lands either after the client has read the handshake's answer (closed before any connect message)
            // or before it (its StartAsync fails with the reset transport); neither is a refusal.
            var dropped = await Record.ExceptionAsync(() => PlainClient.ConnectAsync(hubUrl, user, token, "multi_subtask", Ct));
            Assert.True(
                dropped is System.Net.WebSockets.WebSocketException
                    || dropped is InvalidOperationException { Message: "the server closed the connection before its connect message (it asks for a reconnect)" },
                $"expected the connection dropped without a refusal, got: {dropped?.ToString() ?? "a connect"}");
            Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE user_id = @user", new { user }));
        }
        finally
        {
            await server.QueryAsync<int>(Hide, new { from = script, to = script + ".hidden" });
        }

        await using var client = await PlainClient.ConnectAsync(hubUrl, user, token, "multi_subtask", Ct);
        Assert.Equal(1, await server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE user_id = @user", new { user }));
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }
}
