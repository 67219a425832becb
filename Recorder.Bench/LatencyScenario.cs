using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;

namespace Recorder.Bench;

/// <summary>
/// Commit-to-client latency. The hub runs no replays (<c>MaxConcurrentRuns=0</c>); this process plays the run owner:
/// it claims each interaction's run under an owner id of its own and appends raws through
/// <c>RawRepository.AppendAsync</c>, noting the time right after each commit returned. Each interaction has
/// one connected <see cref="RecorderClient"/> that notes when <see cref="RecorderClient.ReadMessagesAsync"/> hands
/// out each raw. The same load runs against three hub configurations, so that "a wake-up, not a poll" is measured
/// rather than assumed: the default (NOTIFY + 1 s sweep), the wake-up alone (sweep every 60 s), and the sweep alone
/// (the NOTIFY trigger disabled in the bench database: what a 1 s poll delivers).
/// </summary>
internal static class LatencyScenario
{
    private static readonly Option<int> InteractionsOption = new("--interactions")
    {
        Description = "Interactions, each with one connected client and one writer.",
        DefaultValueFactory = _ => 8,
    };

    private static readonly Option<int> RawsOption = new("--raws")
    {
        Description = "Measured raws per configuration, spread over the interactions.",
        DefaultValueFactory = _ => 2000,
    };

    private static readonly Option<int> WarmupOption = new("--warmup")
    {
        Description = "Unmeasured raws at the start of each interaction (they warm up the JIT's tiered code).",
        DefaultValueFactory = _ => 25,
    };

    private static readonly Option<double> IntervalOption = new("--interval-ms")
    {
        Description = "Mean pause between two appends of one interaction (uniform in [0, 2x]).",
        DefaultValueFactory = _ => 20,
    };

    private static readonly Option<int> PayloadOption = new("--payload")
    {
        Description = "Bytes of filler text in each raw's data.",
        DefaultValueFactory = _ => 512,
    };

    private static readonly Option<string[]> ConfigurationsOption = new("--configurations")
    {
        Description = "Hub configurations to measure: default, no-sweep, sweep-only.",
        DefaultValueFactory = _ => ["default", "no-sweep", "sweep-only"],
        AllowMultipleArgumentsPerToken = true,
    };

    private static readonly Configuration[] Known =
    [
        new("default", "NOTIFY wake-up + 1 s sweep (product default)", TimeSpan.FromSeconds(1), Notify: true),
        new("no-sweep", "NOTIFY wake-up, sweep every 60 s (only the wake-up can deliver in time)", TimeSpan.FromSeconds(60), Notify: true),
        new("sweep-only", "NOTIFY trigger disabled in the bench database, 1 s sweep (what a poll delivers)", TimeSpan.FromSeconds(1), Notify: false),
    ];

    public static Command CreateCommand()
    {
        var command = new Command("latency", "Commit-to-client latency of raws appended by an outside run owner.")
        {
            InteractionsOption, RawsOption, WarmupOption, IntervalOption, PayloadOption, ConfigurationsOption,
        };
        BenchEnvironment.AddCommonOptions(command);
        command.SetAction((parse, ct) =>
        {
            var settings = new Settings(
                Math.Max(1, parse.GetValue(InteractionsOption)),
                Math.Max(1, parse.GetValue(RawsOption)),
                Math.Max(0, parse.GetValue(WarmupOption)),
                Math.Max(0, parse.GetValue(IntervalOption)),
                Math.Max(0, parse.GetValue(PayloadOption)),
                parse.GetValue(ConfigurationsOption)!.Select(Find).ToList());
            return ScenarioRunner.RunAsync("latency", parse, context => RunAsync(context, settings), ct);
        });
        return command;
    }

    private static Configuration Find(string name) =>
        Known.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"unknown configuration '{name}'; known: {string.Join(", ", Known.Select(c => c.Name))}");

    private static async Task RunAsync(ScenarioContext context, Settings settings)
    {
        var ct = context.Cancellation;
        var users = BenchUser.Many("l", settings.Interactions);
        await context.Database.SeedUsersAsync(users, ct);

        var results = new List<(Configuration Configuration, Result Result)>();
        foreach (var configuration in settings.Configurations)
        {
            ScenarioRunner.Say($"latency: {configuration.Name}: {configuration.What}");
            results.Add((configuration, await MeasureAsync(context, settings, configuration, users)));
        }

        var perInteraction = RawsPerInteraction(settings);
        context.Report
            .Line($"- {settings.Interactions} interactions x {perInteraction} raws ({settings.Warmup} warm-up raws each not counted), " +
                  $"{Units.Number(settings.IntervalMs)} ms mean pause between two appends of an interaction " +
                  $"(the resulting write rate is in the details), {settings.Payload} B of data each")
            .Line("- hub: one instance, `Recorder:Runs:MaxConcurrentRuns=0` (the bench process is the run owner and appends through `RawRepository.AppendAsync`)" +
                  (context.Redis ? ", Redis backplane" : ""))
            .Line("- latency = when `RecorderClient.ReadMessagesAsync` handed the raw out - when the writer's `AppendAsync` (the commit) returned; one clock (`Stopwatch`), one process")
            .Heading("Commit to client")
            .Table(MainTable(results))
            .Heading("Details")
            .Table(DetailTable(results));
    }

    private static MarkdownTable MainTable(IEnumerable<(Configuration Configuration, Result Result)> results)
    {
        var table = new MarkdownTable("hub configuration", "raws", "median ms", "p90 ms", "p99 ms", "max ms", "median as % of the sweep interval", "within 10 ms");
        foreach (var (configuration, result) in results)
        {
            var latency = result.CommitToClient;
            table.Add(configuration.What, Units.Int(latency.Count), Units.Ms(latency.Median), Units.Ms(latency.Percentile(90)),
                Units.Ms(latency.Percentile(99)), Units.Ms(latency.Max),
                Units.SignificantPercent(latency.Median / configuration.Sweep.TotalMilliseconds), Units.Percent(latency.FractionAtMost(10)));
        }

        return table;
    }

    private static MarkdownTable DetailTable(IEnumerable<(Configuration Configuration, Result Result)> results)
    {
        var table = new MarkdownTable("configuration", "write rate raws/s (all interactions)", "append start to client, median ms (timestamp carried in the raw's data)",
            "append (commit round trip) median ms", "append p99 ms", "raws the client had before the writer's commit returned",
            "hub database commands per raw (all raws, incl. the 1 s housekeeping)");
        foreach (var (configuration, result) in results)
        {
            table.Add(configuration.Name, Units.Number(result.WriteRate), Units.Ms(result.StartToClient.Median), Units.Ms(result.Append.Median),
                Units.Ms(result.Append.Percentile(99)), Units.Int(result.EarlyArrivals), Units.Number(result.HubCommandsPerRaw, "0.00"));
        }

        return table;
    }

    private static int RawsPerInteraction(Settings settings) =>
        settings.Warmup + (int)Math.Ceiling((double)settings.Raws / settings.Interactions);

    private static async Task<Result> MeasureAsync(ScenarioContext context, Settings settings, Configuration configuration, IReadOnlyList<BenchUser> users)
    {
        var ct = context.Cancellation;
        if (!configuration.Notify)
        {
            await context.Database.SetNotifyTriggerAsync(enabled: false, ct);
        }

        try
        {
            using var queries = new QueryCounter(context.Database.Name);
            await using var hub = await HubUnderTest.StartAsync(context.Environment, context.Database,
            [
                new("Recorder:Runs:MaxConcurrentRuns", "0"),
                new("Recorder:Delivery:SweepInterval", configuration.Sweep.ToString()),
            ], context.Redis, instances: 1, ct);

            var (clients, _) = await BenchClients.ConnectAsync(
                users.Select(u => hub.ClientOptions(u, "multi_subtask", 0)).ToList(), settings.Interactions, ct);
            try
            {
                var owner = $"bench-writer-{Guid.NewGuid():N}";
                await ClaimRunsAsync(context.Database, owner, clients, ct);
                var raws = new RawRepository(context.Database.DataSource);
                var count = RawsPerInteraction(settings);
                var filler = new string('x', settings.Payload);
                var lanes = clients.Select((client, i) => new Lane(client, count, new Random(i))).ToList();

                var before = queries.Snapshot();
                var readers = lanes.Select(lane => ReadAsync(lane, ct)).ToList();
                var writing = Stopwatch.GetTimestamp();
                await Task.WhenAll(lanes.Select(lane => WriteAsync(lane, raws, owner, filler, settings.IntervalMs, ct)));
                var writeSeconds = Units.ElapsedMs(writing, Stopwatch.GetTimestamp()) / 1000;
                await Task.WhenAll(readers).WaitAsync(ct);
                var total = lanes.Sum(l => l.Count);
                return Result.Of(lanes, settings.Warmup, total / writeSeconds, (double)(queries.Snapshot() - before).Commands / total);
            }
            finally
            {
                await BenchClients.DisposeAllAsync(clients);
            }
        }
        finally
        {
            if (!configuration.Notify)
            {
                await context.Database.SetNotifyTriggerAsync(enabled: true, ct);
            }
        }
    }

    /// <summary>Requests each client's run and takes its lease under <paramref name="owner"/> (the hub claims none).</summary>
    private static async Task ClaimRunsAsync(BenchDatabase database, string owner, IReadOnlyList<RecorderClient> clients, CancellationToken cancellationToken)
    {
        var interactions = new InteractionRepository(database.DataSource);
        foreach (var client in clients)
        {
            if (!await interactions.RequestRunAsync(client.InteractionId, cancellationToken))
            {
                throw new InvalidOperationException($"the run of {client.InteractionId} could not be requested");
            }
        }

        var claimed = await interactions.ClaimRunsAsync(owner, TimeSpan.FromHours(1), clients.Count, cancellationToken);
        var missing = clients.Select(c => c.InteractionId).Except(claimed.Select(c => c.InteractionId)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"{missing.Count} runs were not claimed by the bench writer (first: {missing[0]})");
        }
    }

    /// <summary>The run owner of one interaction: <c>running</c>, then <c>inner</c> raws, then <c>finished</c>, with random pauses.</summary>
    private static async Task WriteAsync(Lane lane, RawRepository raws, string owner, string filler, double intervalMs, CancellationToken cancellationToken)
    {
        var last = lane.Count;
        for (var seq = 1; seq <= last; seq++)
        {
            var status = seq == 1 ? RecorderStatus.Running : seq == last ? RecorderStatus.Finished : RecorderStatus.Inner;
            var interactionStatus = seq == 1 ? RecorderStatus.Running : seq == last ? RecorderStatus.Finished : null;
            var started = Stopwatch.GetTimestamp();
            var data = new JsonObject { ["sent_at"] = started, ["text"] = filler };
            var raw = new RawAppend(lane.Client.InteractionId, seq, Guid.NewGuid().ToString("N"), status, "1.1", data,
                IsHuman: false, IncludePictures: false, interactionStatus, interactionStatus);
            var outcome = await raws.AppendAsync(raw, owner, cancellationToken);
            lane.Committed[seq] = Stopwatch.GetTimestamp();
            lane.Started[seq] = started;
            if (outcome != AppendOutcome.Written)
            {
                throw new InvalidOperationException($"append of seq {seq} of {lane.Client.InteractionId} was refused");
            }

            if (seq < last && intervalMs > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(lane.Random.NextDouble() * 2 * intervalMs), cancellationToken);
            }
        }
    }

    /// <summary>Notes when each raw is handed out, and the append-start timestamp the raw carries in its data.</summary>
    private static async Task ReadAsync(Lane lane, CancellationToken cancellationToken)
    {
        var expected = 1L;
        await foreach (var message in lane.Client.ReadMessagesAsync(cancellationToken))
        {
            var now = Stopwatch.GetTimestamp();
            if (message.Seq != expected || message.Seq > lane.Count)
            {
                throw new InvalidOperationException($"{lane.Client.InteractionId}: got seq {message.Seq}, expected {expected}");
            }

            lane.Received[message.Seq] = now;
            lane.Carried[message.Seq] = message.Data is { ValueKind: JsonValueKind.Object } data && data.TryGetProperty("sent_at", out var sent)
                ? sent.GetInt64()
                : throw new InvalidOperationException($"{lane.Client.InteractionId} seq {message.Seq}: no sent_at in data");
            expected++;
        }

        if (expected != lane.Count + 1)
        {
            throw new InvalidOperationException($"{lane.Client.InteractionId}: the stream ended after seq {expected - 1} of {lane.Count}");
        }
    }

    private sealed record Settings(int Interactions, int Raws, int Warmup, double IntervalMs, int Payload, IReadOnlyList<Configuration> Configurations);

    private sealed record Configuration(string Name, string What, TimeSpan Sweep, bool Notify);

    /// <summary>One interaction: its client, and per seq (index) the timestamps of the writer and of the client.</summary>
    private sealed class Lane(RecorderClient client, int count, Random random)
    {
        public RecorderClient Client { get; } = client;
        public int Count { get; } = count;
        public Random Random { get; } = random;
        public long[] Started { get; } = new long[count + 1];
        public long[] Committed { get; } = new long[count + 1];
        public long[] Received { get; } = new long[count + 1];
        public long[] Carried { get; } = new long[count + 1];
    }

    private sealed record Result(Stats CommitToClient, Stats StartToClient, Stats Append, int EarlyArrivals, double WriteRate, double HubCommandsPerRaw)
    {
        public static Result Of(IReadOnlyList<Lane> lanes, int warmup, double writeRate, double hubCommandsPerRaw)
        {
            var measured = lanes.SelectMany(lane => Enumerable.Range(warmup + 1, lane.Count - warmup).Select(seq => (lane, seq))).ToList();
            var commitToClient = measured.Select(m => Units.ElapsedMs(m.lane.Committed[m.seq], m.lane.Received[m.seq])).ToList();
            return new Result(
                Stats.Of(commitToClient),
                Stats.Of(measured.Select(m => Units.ElapsedMs(m.lane.Carried[m.seq], m.lane.Received[m.seq]))),
                Stats.Of(measured.Select(m => Units.ElapsedMs(m.lane.Started[m.seq], m.lane.Committed[m.seq]))),
                commitToClient.Count(ms => ms < 0),
                writeRate,
                hubCommandsPerRaw);
        }
    }
}
