using System.Net;
using Npgsql;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A paced hub that reaches PostgreSQL through a proxy the tests can cut, like a database restart.</summary>
public class DatabaseProxyHubServer : PacedHubServer
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

/// <summary>The same with a lease far longer than any outage of the tests: a run must not wait for it to run out.</summary>
public sealed class LongLeaseDatabaseProxyHubServer : DatabaseProxyHubServer
{
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [.. base.Settings, new("Recorder:Runs:Lease", Lease.ToString())];
}

/// <summary>A run an outage interrupted continues on its own instance once PostgreSQL answers, not after its lease.</summary>
public sealed class InterruptedRunTests(LongLeaseDatabaseProxyHubServer server) : TimedTest, IClassFixture<LongLeaseDatabaseProxyHubServer>
{
    [Fact]
    public async Task ARunAnOutageInterruptedContinuesOnItsOwnInstanceOnceTheDatabaseIsBackNotAfterItsLease()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording), Ct);
        await client.StartRecorderAsync(Ct);
        var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));
        var back = DateTime.UtcNow;
        using var patience = new CancellationTokenSource(TestEnvironment.Timeout * 2);
        var messages = await Replays.ReadAllWithFaultAsync(client, 3, async () =>
        {
            await Replays.AssertRunningMidWayAsync(server, client.InteractionId, expected.Count);
            server.Proxy.Pause();
            await Task.Delay(TimeSpan.FromSeconds(7), patience.Token); // longer than the appends' retries: the run is interrupted
            server.Proxy.Unpause();
            back = DateTime.UtcNow;
        }, patience.Token);

        Replays.AssertGapFreeFromOne(messages);
        Assert.Equal(expected, messages.Select(m => m.Status));

        // The run was interrupted (a pause of the whole outage between two raws) and went on well within its lease.
        var times = await server.QueryAsync<DateTime>("SELECT create_time FROM raw WHERE interaction_id = @id ORDER BY seq", new { id = client.InteractionId });
        var gaps = times.Zip(times.Skip(1), (a, b) => (Before: a, After: b)).ToList();
        var outage = gaps.MaxBy(g => g.After - g.Before);
        Assert.True(outage.After - outage.Before >= TimeSpan.FromSeconds(5.6), $"the longest pause between two raws was {outage.After - outage.Before}: the outage did not interrupt the run");
        var resumedAfter = outage.After - back;
        Assert.True(resumedAfter < TimeSpan.FromSeconds(20),
            $"the run's next raw came {resumedAfter} after PostgreSQL was back (lease {LongLeaseDatabaseProxyHubServer.Lease}): it waited for its lease");
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
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(TestQuery.Url("/healthz", "someone", "guess"), Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(TestQuery.Url("/no-such-page", "someone", "guess"), Ct)).StatusCode);
        }
        finally
        {
            server.Proxy.Unpause();
        }
    }
}
