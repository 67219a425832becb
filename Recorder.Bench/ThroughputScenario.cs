using System.CommandLine;
using System.Diagnostics;
using Recorder.Client;
using Recorder.Client.Contracts;

namespace Recorder.Bench;

/// <summary>
/// End-to-end replay throughput: M clients at once each start a replay of a fixture recording at speed 0 through
/// <see cref="RecorderClient.StartRecorderAsync"/> and read it to its <c>finished</c> raw. The hub does all the work
/// (scheduler, replayer, appends, pusher, SignalR); a round is M fresh interactions, the first rounds warm up.
/// </summary>
internal static class ThroughputScenario
{
    private static readonly Option<int> InteractionsOption = new("--interactions")
    {
        Description = "Concurrent interactions (one client and one replay each) per round.",
        DefaultValueFactory = _ => 16,
    };

    private static readonly Option<int> RoundsOption = new("--rounds")
    {
        Description = "Measured rounds.",
        DefaultValueFactory = _ => 5,
    };

    private static readonly Option<int> WarmupRoundsOption = new("--warmup-rounds")
    {
        Description = "Unmeasured rounds first, at least (the hub's tiered JIT settles in them, as in a hub that has run for a while).",
        DefaultValueFactory = _ => 10,
    };

    private static readonly Option<int> WarmupSecondsOption = new("--warmup-seconds")
    {
        Description = "Unmeasured rounds go on for at least this long.",
        DefaultValueFactory = _ => 20,
    };

    private static readonly Option<int> WarmupMaxSecondsOption = new("--warmup-max-seconds")
    {
        Description = "Past the minimum, warm-up goes on until the JIT has settled (the last 10 rounds spent under 2 % of their CPU " +
            "compiling), but no longer than this; the report says whether it settled. Under full load the tier-up takes 40-50 s.",
        DefaultValueFactory = _ => 180,
    };

    private static readonly Option<string> RecordingOption = new("--recording")
    {
        Description = "The recording (a folder under the recordings root) each interaction replays.",
        DefaultValueFactory = _ => "multi_subtask",
    };

    private static readonly Option<int> InstancesOption = new("--instances")
    {
        Description = "Hub instances on the same database (clients spread round-robin); more than one needs --redis.",
        DefaultValueFactory = _ => 1,
    };

    private static readonly Option<int> BareBatchOption = new("--bare-batch")
    {
        Description = "Rows per commit of the bare PostgreSQL batched baseline.",
        DefaultValueFactory = _ => 64,
    };

    public static Command CreateCommand()
    {
        var command = new Command("throughput", "Concurrent speed-0 replays end to end: raws/s delivered to clients, run duration.")
        {
            InteractionsOption, RoundsOption, WarmupRoundsOption, WarmupSecondsOption, WarmupMaxSecondsOption, RecordingOption, InstancesOption, BareBatchOption,
        };
        BenchEnvironment.AddCommonOptions(command);
        command.SetAction((parse, ct) =>
        {
            var settings = new Settings(
                Math.Max(1, parse.GetValue(InteractionsOption)),
                Math.Max(1, parse.GetValue(RoundsOption)),
                Math.Max(0, parse.GetValue(WarmupRoundsOption)),
                TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(WarmupSecondsOption))),
                TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(WarmupMaxSecondsOption))),
                parse.GetValue(RecordingOption)!,
                Math.Max(1, parse.GetValue(InstancesOption)),
                Math.Max(1, parse.GetValue(BareBatchOption)));
            if (settings.Instances > 1 && !parse.GetValue(BenchEnvironment.RedisOption))
            {
                throw new ArgumentException("--instances above 1 needs --redis (clients and runs land on different instances)");
            }

            return ScenarioRunner.RunAsync("throughput", parse, context => RunAsync(context, settings), ct);
        });
        return command;
    }

    private static async Task RunAsync(ScenarioContext context, Settings settings)
    {
        var ct = context.Cancellation;
        var users = BenchUser.Many("t", settings.Interactions);
        await context.Database.SeedUsersAsync(users, ct);
        using var queries = new QueryCounter(context.Database.Name);
        using var statements = new StatementProfile();
        var maxRuns = Math.Max(64, settings.Interactions);
        var rounds = new List<Round>();
        var warmupRounds = 0;
        var warmupTime = TimeSpan.Zero;
        var settled = false;
        var recent = new Queue<Round>();
        await using (var hub = await HubUnderTest.StartAsync(context.Environment, context.Database,
            [new("Recorder:Runs:MaxConcurrentRuns", maxRuns.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            context.Redis, settings.Instances, ct))
        {
            var warmupStart = Stopwatch.GetTimestamp();
            for (var r = 0; rounds.Count < settings.Rounds; r++)
            {
                var warmup = rounds.Count == 0 && !WarmedUp(r, Stopwatch.GetElapsedTime(warmupStart), recent, settings, out settled);
                if (!warmup && rounds.Count == 0)
                {
                    warmupRounds = r;
                    warmupTime = Stopwatch.GetElapsedTime(warmupStart);
                    statements.Start();
                }

                var round = await RunRoundAsync(hub, users, settings.Recording, queries, ct);
                ScenarioRunner.Say($"throughput: round {r + 1}{(warmup ? " (warm-up)" : "")}: {round.Raws} raws in {Units.Ms(round.WallMs)} ms = " +
                    $"{Units.Number(round.RawsPerSecond)} raws/s, JIT {Units.Number(round.Jit.TotalMilliseconds / round.Raws, "0.000")} ms per raw");
                if (!warmup)
                {
                    rounds.Add(round);
                }
                else
                {
                    recent.Enqueue(round);
                    if (recent.Count > SettledRounds)
                    {
                        recent.Dequeue();
                    }
                }
            }

            statements.Stop();
        }

        // The bare limits, with the hub stopped: the same rows into PostgreSQL, round by round.
        var bare = new List<BareInsertResult>();
        foreach (var round in rounds)
        {
            var written = await BarePostgres.ReadRawsAsync(context.Database.DataSource, [.. round.Runs.Select(r => r.InteractionId)], ct);
            var results = await BarePostgres.MeasureAsync(context.Database.DataSource, written, settings.BareBatch, ct);
            ScenarioRunner.Say($"throughput: bare PostgreSQL: {string.Join("; ", results.Select(b => $"{b.Mode}: {Units.Number(b.RowsPerSecond)} rows/s"))}");
            bare.AddRange(results);
        }

        // And the same envelopes from a minimal SignalR hub to as many connections, each its own replay's raws.
        var bareSends = new List<BareSendResult>();
        await using (var bareHub = await BareSignalR.StartAsync(ct))
        {
            foreach (var round in rounds)
            {
                var sent = await bareHub.SendAsync([.. round.Runs.Select(r => r.Envelopes)], ct);
                ScenarioRunner.Say($"throughput: bare SignalR: {Units.Int((int)sent.Messages)} envelopes to {sent.Connections} connections in {Units.Ms(sent.WallMs)} ms = {Units.Number(sent.MessagesPerSecond)} msgs/s");
                bareSends.Add(sent);
            }
        }

        var runs = rounds.SelectMany(r => r.Runs).ToList();
        var duration = Stats.Of(runs.Select(r => r.DurationMs));
        var firstRaw = Stats.Of(runs.Select(r => r.FirstRawMs));
        var rate = Stats.Of(rounds.Select(r => r.RawsPerSecond));
        var raws = rounds.Sum(r => r.Raws);
        context.Report
            .Line($"- {settings.Interactions} concurrent interactions per round replaying `{settings.Recording}` " +
                  $"({runs[0].Raws} raws each, `running` to `finished`) at `Recorder:Replay:Speed=0`; {settings.Rounds} measured rounds after {warmupRounds} warm-up rounds in {warmupTime.TotalSeconds:0} s " +
                  $"(at least {settings.WarmupRounds} and {settings.Warmup.TotalSeconds:0} s, then until the JIT settled: " +
                  (settled ? $"it did, the last {SettledRounds} warm-up rounds spent under 2 % of their CPU compiling)" : $"**it had not** by the {settings.WarmupMax.TotalSeconds:0} s cap)"))
            .Line($"- hub: {settings.Instances} instance(s){(context.Redis ? " with the Redis backplane" : ", no backplane")}, " +
                  $"`Recorder:Runs:MaxConcurrentRuns={maxRuns}`, other settings default; clients, hub and PostgreSQL share the machine")
            .Line("- a run = `StartRecorderAsync` called until its `finished` raw is read; a round's wall time = first start to last `finished`")
            .Heading("Throughput")
            .Table(new MarkdownTable("rounds", "raws delivered", "raws/s (median of rounds)", "raws/s (min - max)", "run duration median ms",
                    "run p90 ms", "run max ms", "start to first raw median ms")
                .Add(Units.Int(rounds.Count), Units.Int(raws), Units.Number(rate.Median), $"{Units.Number(rate.Min)} - {Units.Number(rate.Max)}",
                    Units.Ms(duration.Median), Units.Ms(duration.Percentile(90)), Units.Ms(duration.Max), Units.Ms(firstRaw.Median)))
            .Heading("Cost per raw (measured rounds)")
            .Table(new MarkdownTable("hub database commands per raw", "hub database commands in flight (mean)",
                    "bench process CPU per raw ms (hub + clients)", "of which JIT compiling ms per raw",
                    "GC pause ms per raw", "allocated KiB per raw")
                .Add(Units.Number((double)rounds.Sum(r => r.Queries.Commands) / raws, "0.0"),
                    Units.Number(rounds.Sum(r => r.Queries.Milliseconds) / rounds.Sum(r => r.WallMs), "0.0"),
                    Units.Number(rounds.Sum(r => r.Cpu.TotalMilliseconds) / raws, "0.00"),
                    Units.Number(rounds.Sum(r => r.Jit.TotalMilliseconds) / raws, "0.000"),
                    Units.Number(rounds.Sum(r => r.GcPause.TotalMilliseconds) / raws, "0.000"),
                    Units.Number(rounds.Sum(r => r.Allocated) / 1024.0 / raws, "0.0")))
            .Line()
            .Line("Commands are counted by Npgsql's own metrics (one per command the hub's pool executed); \"in flight\" = summed command " +
                  "durations / wall time, i.e. how many commands were waiting on PostgreSQL on average. The CPU column covers this " +
                  "process (hub and clients), not PostgreSQL.");

        var bareTable = new MarkdownTable("bare PostgreSQL, same rows, same cluster (NOTIFY trigger on)", "rows/s (median of rounds)",
            "rows/s (min - max)", "commits per round", "Recorder raws/s as a ratio of it");
        foreach (var mode in bare.GroupBy(b => b.Mode, StringComparer.Ordinal))
        {
            var modeRate = Stats.Of(mode.Select(b => b.RowsPerSecond));
            bareTable.Add(mode.Key, Units.Number(modeRate.Median), $"{Units.Number(modeRate.Min)} - {Units.Number(modeRate.Max)}",
                Units.Int(mode.First().Commits), Units.Number(rate.Median / modeRate.Median, "0.00"));
        }

        var signalRate = Stats.Of(bareSends.Select(b => b.MessagesPerSecond));
        bareTable.Add($"bare SignalR: the same envelopes from a minimal hub to {settings.Interactions} connections (msgs/s)",
            Units.Number(signalRate.Median), $"{Units.Number(signalRate.Min)} - {Units.Number(signalRate.Max)}", "-",
            Units.Number(rate.Median / signalRate.Median, "0.00"));
        var batchedRate = Stats.Of(bare.Where(b => b.Commits < b.Rows).Select(b => b.RowsPerSecond)).Median;
        var limit = Math.Min(batchedRate, signalRate.Median);

        context.Report
            .Heading("Hub statements (measured rounds, connects included)")
            .Table(statements.Table(raws))
            .Heading("Bare limits (same run, after the hub stopped)")
            .Table(bareTable)
            .Line($"Recorder / min(bare PostgreSQL batched, bare SignalR) = {Units.Number(rate.Median)} / {Units.Number(limit)} = " +
                  $"**{Units.Number(rate.Median / limit, "0.00")}** (target 0.5).")
            .Line()
            .Line("Each measured round's raws are read back from `raw` and inserted again into `bare_raw` (same columns, indexes, " +
                  "defaults and statement-level NOTIFY trigger), with nothing else: no fencing, no run, no delivery. The bare SignalR " +
                  "hub sends each connection the envelopes one client received in that round, in order, one awaited send each, " +
                  "to plain HubConnections that deserialize them as `RecorderEnvelope`; the clock runs from the first send request " +
                  "to the last envelope received.");
    }

    private static async Task<Round> RunRoundAsync(HubUnderTest hub, IReadOnlyList<BenchUser> users, string recording, QueryCounter queries, CancellationToken cancellationToken)
    {
        var (clients, _) = await BenchClients.ConnectAsync(
            users.Select((u, i) => hub.ClientOptions(u, recording, i)).ToList(), users.Count, cancellationToken);
        try
        {
            var queriesBefore = queries.Snapshot();
            var cpuBefore = ProcessSnapshot.Now().Cpu;
            var jitBefore = System.Runtime.JitInfo.GetCompilationTime();
            var gcBefore = GC.GetTotalPauseDuration();
            var allocatedBefore = GC.GetTotalAllocatedBytes();
            var start = Stopwatch.GetTimestamp();
            var runs = await Task.WhenAll(clients.Select(c => RunToEndAsync(c, cancellationToken)));
            var wallMs = Units.ElapsedMs(start, Stopwatch.GetTimestamp());
            return new Round(runs, wallMs, queries.Snapshot() - queriesBefore, ProcessSnapshot.Now().Cpu - cpuBefore,
                System.Runtime.JitInfo.GetCompilationTime() - jitBefore, GC.GetTotalPauseDuration() - gcBefore,
                GC.GetTotalAllocatedBytes() - allocatedBefore);
        }
        finally
        {
            await BenchClients.DisposeAllAsync(clients);
        }
    }

    private static async Task<Run> RunToEndAsync(RecorderClient client, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        await client.StartRecorderAsync(cancellationToken);
        var firstRawMs = double.NaN;
        var expected = 1L;
        var received = new List<RecorderEnvelope>();
        RecorderEnvelope? last = null;
        await foreach (var message in client.ReadMessagesAsync(cancellationToken))
        {
            if (expected == 1)
            {
                firstRawMs = Units.ElapsedMs(start, Stopwatch.GetTimestamp());
            }

            if (message.Seq != expected++)
            {
                throw new InvalidOperationException($"{client.InteractionId}: got seq {message.Seq}, expected {expected - 1}");
            }

            last = message;
            received.Add(message);
        }

        if (last?.Status != RecorderStatus.Finished)
        {
            throw new InvalidOperationException($"{client.InteractionId}: the run ended with '{last?.Status}' ({last?.Message}), not finished");
        }

        return new Run(client.InteractionId, received, (int)last.Seq, Units.ElapsedMs(start, Stopwatch.GetTimestamp()), firstRawMs);
    }

    private const int SettledRounds = 10;

    /// <summary>
    /// Warm-up is over once its minimum rounds and time are done and the JIT has settled: the last rounds spent under 2 %
    /// of their CPU compiling. Ten short rounds left a third of the process's CPU in the tier-up, and on two busy cores
    /// the tier-up goes on for 40-50 s; a hub that has served for a minute has none, so the measured rounds should not.
    /// </summary>
    private static bool WarmedUp(int round, TimeSpan elapsed, Queue<Round> recent, Settings settings, out bool settled)
    {
        var cpu = recent.Sum(r => r.Cpu.TotalMilliseconds);
        settled = recent.Count == SettledRounds && recent.Sum(r => r.Jit.TotalMilliseconds) < 0.02 * cpu;
        return round >= settings.WarmupRounds && elapsed >= settings.Warmup && (settled || elapsed >= settings.WarmupMax);
    }

    private sealed record Settings(int Interactions, int Rounds, int WarmupRounds, TimeSpan Warmup, TimeSpan WarmupMax, string Recording, int Instances, int BareBatch);

    private sealed record Run(string InteractionId, IReadOnlyList<RecorderEnvelope> Envelopes, int Raws, double DurationMs, double FirstRawMs);

    private sealed record Round(IReadOnlyList<Run> Runs, double WallMs, QuerySnapshot Queries, TimeSpan Cpu, TimeSpan Jit, TimeSpan GcPause, long Allocated)
    {
        public int Raws => Runs.Sum(r => r.Raws);

        public double RawsPerSecond => Raws / (WallMs / 1000);
    }
}
