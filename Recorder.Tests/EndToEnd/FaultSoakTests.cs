using Xunit.Abstractions;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// Real-process faults under load (see <see cref="FaultSoak"/>): hub processes killed with SIGKILL, the soak's own
/// PostgreSQL restarted with pg_ctl, its own Redis killed and restarted, while paced runs are mid-way and their plain
/// clients drop at random. Every client must see every seq 1..N exactly once, in order, ending with finished, without
/// any help. <c>RECORDER_SOAK_RUNS</c> and the other variables of <see cref="FaultSoakOptions"/> size it;
/// <c>RECORDER_SOAK_REPORT</c> names a file that gets the figures (docs/reliability.md).
/// </summary>
public sealed class FaultSoakTests(FaultSoakHubServer server, ITestOutputHelper output) : IClassFixture<FaultSoakHubServer>
{
    [Fact]
    public async Task PacedRunsLoseRepeatAndReorderNothingThroughAHubKillAPostgresRestartAndARedisRestartWhileClientsDropAtRandom()
    {
        var options = server.Options;
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var report = await new FaultSoak(server, options, output.WriteLine).RunAsync(patience.Token);
        output.WriteLine(report.ToString());
        if (Environment.GetEnvironmentVariable("RECORDER_SOAK_REPORT") is { Length: > 0 } file)
        {
            await File.WriteAllTextAsync(file, report.ToString(), patience.Token);
        }

        // Each fault hit live runs: every run was mid-way, and the killed hub owned some of them.
        Assert.All(report.Faults, fault => Assert.Equal(options.Runs, fault.MidWay));
        Assert.InRange(report.Faults[0].Affected, 1, options.Runs);
        Assert.Equal(report.Faults[0].Affected, report.Faults[0].TakenOver);

        // Every client, over all its connections: seq 1..N once each, in order, the recording's statuses, finished.
        foreach (var tally in report.Clients)
        {
            Assert.True(tally is { Lost: 0, Duplicated: 0, OutOfOrder: 0, Unexpected: 0, StatusesMatch: true, Finished: true }, $"{tally}");
            Assert.Equal(server.Expected.Count, tally.Received);
        }

        Assert.All(report.Clients, tally => Assert.Empty(tally.Refusals));
        Assert.True(report.Clients.Sum(t => t.Drops) >= options.Runs, $"only {report.Clients.Sum(t => t.Drops)} drops by the clients");
    }
}
