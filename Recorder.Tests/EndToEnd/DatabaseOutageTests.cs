using System.Net;
using Npgsql;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A paced hub that reaches PostgreSQL through a proxy the tests can cut, like a database restart.</summary>
public sealed class DatabaseProxyHubServer : PacedHubServer
{
    private static readonly NpgsqlConnectionStringBuilder Postgres = new(TestEnvironment.PostgresConnectionString);

    public TcpProxy Proxy { get; } = new(new IPEndPoint(IPAddress.Loopback, Postgres.Port));

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        .. base.Settings,
        new("ConnectionStrings:Recorder", new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Host = "127.0.0.1", Port = Proxy.Port }.ConnectionString),
    ];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Proxy.DisposeAsync();
    }
}

public sealed class DatabaseOutageTests(DatabaseProxyHubServer server) : TimedTest, IClassFixture<DatabaseProxyHubServer>
{
    [Theory]
    [InlineData(1)]  // shorter than the retries: the run rides it out
    [InlineData(7)]  // longer than the retries (about 6 s): the run stops and is taken up again when its lease runs out
    public async Task APostgresOutageMidRunLosesAndRepeatsNothing(int outageSeconds)
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording), Ct);
        await client.StartRecorderAsync(Ct);

        var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));
        using var patience = new CancellationTokenSource(TestEnvironment.Timeout * 2);
        var messages = await Replays.ReadAllWithFaultAsync(client, 3, async () =>
        {
            // The outage hits a live run: running, with raws still to come.
            await Replays.AssertRunningMidWayAsync(server, client.InteractionId, expected.Count);
            server.Proxy.Pause();
            await Task.Delay(TimeSpan.FromSeconds(outageSeconds), patience.Token); // the outage itself, not a wait for a condition
            server.Proxy.Unpause();
        }, patience.Token);

        Replays.AssertGapFreeFromOne(messages);

        // The run stood still for the outage (its raws' commit times show the pause), then went on from where it was.
        var times = await server.QueryAsync<DateTime>("SELECT create_time FROM raw WHERE interaction_id = @id ORDER BY seq", new { id = client.InteractionId });
        var longestPause = times.Zip(times.Skip(1), (a, b) => b - a).Max();
        Assert.True(longestPause >= TimeSpan.FromSeconds(outageSeconds * 0.8), $"the longest pause between two raws was {longestPause}, shorter than the {outageSeconds} s outage");
        Assert.Equal(RecorderStatus.Finished, messages[^1].Status);
        Assert.Equal(await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask")), messages.Select(m => m.Status));
        var written = await server.QueryAsync<string>("SELECT status FROM raw WHERE interaction_id = @id ORDER BY seq", new { id = client.InteractionId });
        Assert.Equal(messages.Select(m => m.Status), written);
    }

    [Fact]
    public async Task RequestsThatNeedNoUserDoNotLookOneUpEvenWithAUserInTheQuery()
    {
        // With PostgreSQL cut off, a user lookup would hang until its retries give up: these answer at once.
        using var http = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(3) };
        server.Proxy.Pause();
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz?user_id=someone&token=guess", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/no-such-page?user_id=someone&token=guess", Ct)).StatusCode);
        }
        finally
        {
            server.Proxy.Unpause();
        }
    }
}
