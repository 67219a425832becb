using System.Globalization;
using System.Text;

namespace Recorder.Tests.EndToEnd;

/// <summary>What one fault of the soak hit and how long its runs took to deliver again.</summary>
/// <param name="Name">hub SIGKILL, PostgreSQL restart, Redis restart</param>
/// <param name="MidWay">runs that were running with raws written and raws still to come when the fault began</param>
/// <param name="Affected">runs whose delivery the fault could stop (the killed hub's runs; every live run otherwise)</param>
/// <param name="Outage">how long the server was down (0 for the kill: the hub never comes back, a replacement starts)</param>
/// <param name="Recovery">per affected run: from the fault's start to the first raw written after it reaching the run's client</param>
/// <param name="TakenOver">affected runs whose run_owner changed across the fault (another instance continued them)</param>
/// <param name="Claimed">
/// claims of runs that had raws (<c>recorder_runs_taken_over_total</c> of the hubs alive after the fault): the
/// takeovers, and runs the fault interrupted that their own instance claimed again once the lease ran out
/// </param>
internal sealed record FaultFigures(string Name, int MidWay, int Affected, TimeSpan Outage, IReadOnlyList<TimeSpan> Recovery, int TakenOver, int Claimed);

/// <summary>
/// One client's stream as it arrived over all its connections, against the recording's seq 1..N: lost (never
/// arrived), duplicated (arrived again), out of order (arrived after a higher seq), unexpected (outside 1..N), and
/// whether the statuses in arrival order are the recording's.
/// </summary>
internal sealed record ClientTally(string InteractionId, int Received, int Lost, int Duplicated, int OutOfOrder, int Unexpected,
    bool StatusesMatch, bool Finished, int Drops, int LostConnections, int FailedAttempts, IReadOnlyList<string> Refusals)
{
    public static ClientTally Of(SoakClient soak, IReadOnlyList<string> expected)
    {
        var raws = soak.Client.Raws;
        var seen = new HashSet<long>();
        long highest = 0;
        int duplicated = 0, outOfOrder = 0;
        foreach (var (seq, _) in raws)
        {
            if (!seen.Add(seq))
            {
                duplicated++;
            }
            else if (seq < highest)
            {
                outOfOrder++;
            }

            highest = Math.Max(highest, seq);
        }

        return new ClientTally(
            soak.Client.InteractionId,
            raws.Count,
            Lost: Enumerable.Range(1, expected.Count).Count(seq => !seen.Contains(seq)),
            duplicated,
            outOfOrder,
            Unexpected: seen.Count(seq => seq < 1 || seq > expected.Count),
            StatusesMatch: raws.Select(r => r.Status).SequenceEqual(expected, StringComparer.Ordinal),
            Finished: raws.Count > 0 && raws[^1].Status == Recorder.Client.Contracts.RecorderStatus.Finished,
            soak.Drops,
            soak.Lost,
            soak.FailedAttempts,
            soak.Refusals);
    }
}

/// <summary>The soak's figures, as docs/reliability.md shows them.</summary>
internal sealed record FaultSoakReport(FaultSoakOptions Options, int RawsPerRun, TimeSpan Duration, IReadOnlyList<FaultFigures> Faults,
    IReadOnlyList<ClientTally> Clients)
{
    public override string ToString()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"fault soak: {Options.Runs} paced runs of {RawsPerRun} raws, seed {Options.Seed}, {Duration.TotalSeconds:0.0} s; " +
            $"lease {Options.Lease.TotalSeconds:0.#} s, poll {Options.PollInterval.TotalSeconds:0.##} s");
        text.AppendLine(c, $"raws delivered: {Clients.Sum(t => t.Received)} (expected {Options.Runs * RawsPerRun})");
        text.AppendLine(c, $"lost: {Clients.Sum(t => t.Lost)}, duplicated: {Clients.Sum(t => t.Duplicated)}, out of order: {Clients.Sum(t => t.OutOfOrder)}, " +
            $"outside 1..N: {Clients.Sum(t => t.Unexpected)}, runs with the recording's statuses in order: {Clients.Count(t => t.StatusesMatch)}/{Clients.Count}, " +
            $"runs ending with finished: {Clients.Count(t => t.Finished)}/{Clients.Count}");
        text.AppendLine(c, $"client drops: {Clients.Sum(t => t.Drops)} by the clients (mean every {Options.DropEvery.TotalSeconds:0.#} s), " +
            $"{Clients.Sum(t => t.LostConnections)} by the servers; failed reconnect attempts: {Clients.Sum(t => t.FailedAttempts)}, " +
            $"refusals: {Clients.Sum(t => t.Refusals.Count)}");
        text.AppendLine("| fault | runs mid-way | runs affected | outage | recovery: first / median / max | continued by another instance | claimed again |");
        text.AppendLine("| --- | ---: | ---: | ---: | --- | ---: | ---: |");
        foreach (var fault in Faults)
        {
            var sorted = fault.Recovery.Order().ToList();
            var recovery = sorted.Count == 0
                ? "-"
                : $"{Seconds(sorted[0])} / {Seconds(sorted[sorted.Count / 2])} / {Seconds(sorted[^1])}";
            text.AppendLine(c, $"| {fault.Name} | {fault.MidWay} | {fault.Affected} | {Seconds(fault.Outage)} | {recovery} | {fault.TakenOver} | {fault.Claimed} |");
        }

        foreach (var refusal in Clients.SelectMany(t => t.Refusals).Distinct(StringComparer.Ordinal))
        {
            text.AppendLine(c, $"refusal seen: {refusal}");
        }

        return text.ToString();
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.00 s", CultureInfo.InvariantCulture);
}
