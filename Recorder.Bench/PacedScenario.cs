using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Recorder.Data.Recordings;
using Recorder.Hub.Playback;
using Recorder.XAgent;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;
using Recorder.XAgent.Rows;

namespace Recorder.Bench;

/// <summary>
/// Commit-to-client latency under many concurrent replays at the recorded pace. The fixture recording is imported into
/// the bench database with its records <c>--gap-ms</c> apart (as the tests' PacedHubServer does), the hub replays at
/// <c>Recorder:Replay:Speed=1</c> with <c>MaxGap</c> = the gap, so each replay commits about once per gap. N clients,
/// each its own user, arrive evenly spread over <c>--arrival-s</c> in a child process (<see cref="PacedClients"/>),
/// start their replay and read it to <c>finished</c>, stamping each raw. A raw's commit is taken as the end of the
/// hub's append command that wrote it (Npgsql tracing in this process; the command is found by the raw's
/// <c>create_time</c>, read back afterwards); the bench's own <c>raw_committed</c> listener and <c>create_time</c>
/// itself are reported beside it. Each run's duration is compared with what the recording's pacing says it lasts.
/// </summary>
internal static class PacedScenario
{
    private const string Recording = "paced_multi";
    private const string WarmupRecording = "paced_warmup";
    private const string UserPrefix = "p";
    private const string WarmupPrefix = "pw";
    private static readonly TimeSpan Bucket = TimeSpan.FromSeconds(5);

    /// <summary>Loads of the recording timed before the hub starts.</summary>
    private const int LoadSamples = 10;

    /// <summary>How the delivery's one read for all subscriptions starts (<c>RawRepository.ListAfterAsync</c> for many cursors).</summary>
    private const string DeliveryReadPrefix = "SELECT r.* FROM unnest(@ids::text[], @afters::bigint[])";

    /// <summary>How the hub's group-commit append starts (<c>RawRepository.AppendAsync</c>).</summary>
    private const string AppendPrefix = "WITH g AS ( SELECT * FROM unnest(@ids::text[], @owners::text[]";

    private const string RawTimesSql = """
        SELECT interaction_id, seq, create_time, CASE WHEN is_send THEN update_time END AS sent_time FROM raw
        WHERE interaction_id = ANY(@ids)
        """;

    private static readonly Option<int> ReplaysOption = new("--replays")
    {
        Description = "Replays (one client and one user each).",
        DefaultValueFactory = _ => 1000,
    };

    private static readonly Option<double> ArrivalOption = new("--arrival-s")
    {
        Description = "Seconds over which the clients arrive, evenly spaced.",
        DefaultValueFactory = _ => 20,
    };

    private static readonly Option<double> GapOption = new("--gap-ms")
    {
        Description = "The time between two records of the imported recording (and Recorder:Replay:MaxGap).",
        DefaultValueFactory = _ => 1000,
    };

    private static readonly Option<int> WarmupOption = new("--warmup")
    {
        Description = "Unmeasured replays of the same recording without pauses first, per warm-up round (they warm up hub and clients: the tiered JIT settles, as in a hub that has run for a while).",
        DefaultValueFactory = _ => 200,
    };

    private static readonly Option<int> WarmupSecondsOption = new("--warmup-seconds")
    {
        Description = "Warm-up rounds go on for at least this long (at least one round).",
        DefaultValueFactory = _ => 20,
    };

    private static readonly Option<int> WarmupMaxSecondsOption = new("--warmup-max-seconds")
    {
        Description = "Past the minimum, warm-up goes on until the hub's JIT has settled (its last 10 s spent under 2 % of the " +
            "process's CPU compiling), but no longer than this; the report says whether it settled.",
        DefaultValueFactory = _ => 180,
    };

    private static readonly Option<int> RepeatOption = new("--repeat")
    {
        Description = "Each subtask's tool calls (but its submit) this many times over: a longer replay at the same pace, so that replays overlap; 1 = the recording as it is.",
        DefaultValueFactory = _ => 1,
    };

    private static readonly Option<string> SourceOption = new("--recording")
    {
        Description = "The fixture recording (a folder under the recordings root) that is imported paced.",
        DefaultValueFactory = _ => "multi_subtask",
    };

    public static Command CreateCommand()
    {
        var command = new Command("paced", "Commit-to-client latency and run stretch of many concurrent replays at the recorded pace.")
        {
            ReplaysOption, ArrivalOption, GapOption, WarmupOption, WarmupSecondsOption, WarmupMaxSecondsOption, RepeatOption, SourceOption,
        };
        BenchEnvironment.AddCommonOptions(command);
        command.SetAction((parse, ct) =>
        {
            var settings = new Settings(
                Math.Max(1, parse.GetValue(ReplaysOption)),
                TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(ArrivalOption))),
                TimeSpan.FromMilliseconds(Math.Max(1, parse.GetValue(GapOption))),
                Math.Max(0, parse.GetValue(WarmupOption)),
                TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(WarmupSecondsOption))),
                TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(WarmupMaxSecondsOption))),
                Math.Max(1, parse.GetValue(RepeatOption)),
                parse.GetValue(SourceOption)!,
                parse.GetValue(BenchEnvironment.TimeoutOption));
            return ScenarioRunner.RunAsync("paced", parse, context => RunAsync(context, settings), ct);
        });
        return command;
    }

    private static async Task RunAsync(ScenarioContext context, Settings settings)
    {
        var ct = context.Cancellation;
        await context.Database.SeedUsersAsync([.. BenchUser.Many(UserPrefix, settings.Replays), .. BenchUser.Many(WarmupPrefix, settings.Warmup)], ct);
        var plan = await ImportAsync(context, settings, ct);
        ScenarioRunner.Say($"paced: {Recording} imported: {plan.Raws} raws per replay, {plan.Gaps} pauses, {plan.Expected.TotalSeconds:0.0} s per replay at its pace");

        using var queries = new QueryCounter(context.Database.Name);
        using var statements = new StatementProfile();
        var maxRuns = Math.Max(64, settings.Replays + settings.Warmup);
        await using var hub = await HubUnderTest.StartAsync(context.Environment, context.Database,
        [
            new("Recorder:Replay:Speed", "1"),
            new("Recorder:Replay:MaxGap", settings.Gap.ToString()),
            new("Recorder:Runs:MaxConcurrentRuns", maxRuns.ToString(CultureInfo.InvariantCulture)),
        ], context.Redis, instances: 1, ct);

        var output = Path.Combine(Path.GetTempPath(), $"{context.Database.Name}-paced.json");
        var window = await RunClientsAsync(context, hub, settings, plan, output, queries, statements, ct);
        PacedClientsOutput clients;
        try
        {
            await using var file = File.OpenRead(output);
            clients = await JsonSerializer.DeserializeAsync<PacedClientsOutput>(file, cancellationToken: ct)
                ?? throw new InvalidOperationException("the paced-clients output is empty");
        }
        finally
        {
            File.Delete(output);
        }

        var completed = clients.Runs.Where(r => r.Error is null).ToList();
        if (completed.Count == 0)
        {
            throw new InvalidOperationException($"no replay finished; first error: {clients.Runs.FirstOrDefault()?.Error}");
        }

        var times = await ReadRawTimesAsync(context.Database, completed, ct);
        var analysis = Analysis.Of(completed, times, clients.Notices, statements.Spans(AppendPrefix), statements.Spans(DeliveryReadPrefix), plan);
        ScenarioRunner.Say($"paced: {completed.Count} of {clients.Runs.Count} replays finished, {analysis.Raws} raws; " +
                           $"commit to client p50 {Units.Ms(analysis.ObservedToClient.Median)}-{Units.Ms(analysis.CreateToClient.Median)} ms, " +
                           $"p99 {Units.Ms(analysis.ObservedToClient.Percentile(99))}-{Units.Ms(analysis.CreateToClient.Percentile(99))} ms");
        Write(context.Report, context.Redis, settings, plan, maxRuns, clients, completed, analysis, window, statements);
    }

    /// <summary>Imports the paced recording and a pause-free copy for the warm-up; returns what a replay of the paced one should be.</summary>
    private static async Task<Plan> ImportAsync(ScenarioContext context, Settings settings, CancellationToken cancellationToken)
    {
        var recording = Lengthen(await XAgentDiskReader.ReadAsync(Path.Combine(context.Environment.RecordingsRoot, settings.Source), cancellationToken),
            settings.Repeat);
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var rows = XAgentRunningRecords.ToRows(recording);
        var files = recording.Workspace;
        var repository = new RunningRecordRepository(context.Database.DataSource);
        await repository.ReplaceAsync(Recording, [.. rows.Select((row, i) => row with { CreateTime = start + i * settings.Gap })], files, cancellationToken);
        await repository.ReplaceAsync(WarmupRecording, [.. rows.Select(row => row with { CreateTime = start })], files, cancellationToken);

        // What the hub will replay, read and parsed as RunningRecordSource does it, paced the way the hub paces it.
        var loaded = await LoadAsync(repository, cancellationToken);
        var loads = new List<(double Wall, double Cpu)>();
        for (var i = 0; i < LoadSamples; i++)
        {
            var cpu = ProcessSnapshot.Now().Cpu;
            var started = Stopwatch.GetTimestamp();
            await LoadAsync(repository, cancellationToken);
            loads.Add((Units.ElapsedMs(started, Stopwatch.GetTimestamp()), (ProcessSnapshot.Now().Cpu - cpu).TotalMilliseconds));
        }

        var pacing = new ReplayOptions { Speed = 1, MaxGap = settings.Gap };
        var delays = loaded.Steps.Select((step, i) => ReplayPacing.DelayBetween(i == 0 ? null : loaded.Steps[i - 1], step, pacing)).ToList();
        return new Plan(loaded.Steps.Count + 2, delays.Count(d => d > TimeSpan.Zero), delays.Aggregate(TimeSpan.Zero, (sum, d) => sum + d),
            Stats.Of(loads.Select(l => l.Wall)).Median, loads.Average(l => l.Cpu));
    }

    /// <summary>The imported recording as a run reads it without a cache: its rows and files from PostgreSQL, parsed and mapped to steps.</summary>
    private static async Task<Recording> LoadAsync(RunningRecordRepository repository, CancellationToken cancellationToken)
    {
        var rows = await repository.ListAsync(Recording, cancellationToken);
        if (rows.Count == 0)
        {
            throw new InvalidOperationException($"{Recording} was not imported");
        }

        var files = await repository.ListFilesAsync(Recording, cancellationToken);
        var recording = XAgentReplayMapper.ToRecording(Recording, XAgentRowReader.Read(rows));
        return recording with { Workspace = files };
    }

    /// <summary>Each subtask's tool calls other than its submit <paramref name="repeat"/> times in a row, then its submit (the subtasks keep their order).</summary>
    private static XAgentRecording Lengthen(XAgentRecording recording, int repeat) => repeat <= 1 ? recording : recording with
    {
        ToolCalls = [.. recording.ToolCalls.GroupBy(c => c.Current, StringComparer.Ordinal).SelectMany(subtask =>
            Enumerable.Repeat(subtask.Where(c => c.ToolName != XAgentReplayMapper.SubmitTool), repeat).SelectMany(calls => calls)
                .Concat(subtask.Where(c => c.ToolName == XAgentReplayMapper.SubmitTool)))],
    };

    private static async Task<Window> RunClientsAsync(ScenarioContext context, HubUnderTest hub, Settings settings, Plan plan, string output,
        QueryCounter queries, StatementProfile statements, CancellationToken cancellationToken)
    {
        var runTimeout = plan.Expected * 2 + TimeSpan.FromSeconds(60);
        using var child = StartClients(context, hub, settings, runTimeout, output);
        try
        {
            ScenarioRunner.Say($"paced: warm-up rounds of {settings.Warmup} replays until the JIT settles");
            var warmup = await WarmUpAsync(child, settings, cancellationToken);
            var queriesBefore = queries.Snapshot();
            var cpuBefore = ProcessSnapshot.Now().Cpu;
            var machineBefore = MachineCpu.Read();
            var backendsBefore = BackendCpu.Read(context.Database.Name);
            var loadBefore = MachineCpu.LoadAverage();
            var allocatedBefore = GC.GetTotalAllocatedBytes();
            var pausedBefore = GC.GetTotalPauseDuration();
            var jitBefore = System.Runtime.JitInfo.GetCompilationTime();
            var start = Stopwatch.GetTimestamp();
            statements.Start();
            await using var sampler = new RuntimeSampler(context.Database.Name, cancellationToken);
            ScenarioRunner.Say($"paced: {settings.Replays} clients arriving over {settings.Arrival.TotalSeconds:0} s, each replay {plan.Expected.TotalSeconds:0.0} s");
            await child.StandardInput.WriteLineAsync("GO".AsMemory(), cancellationToken);
            var done = await ExpectAsync(child, "DONE", cancellationToken);
            statements.Stop();
            await sampler.StopAsync(cancellationToken);
            var window = new Window(
                Units.ElapsedMs(start, Stopwatch.GetTimestamp()),
                queries.Snapshot() - queriesBefore,
                ProcessSnapshot.Now().Cpu - cpuBefore,
                MachineCpu.Read() - machineBefore,
                BackendCpu.MsSince(backendsBefore, BackendCpu.Read(context.Database.Name)),
                GC.GetTotalAllocatedBytes() - allocatedBefore,
                GC.GetTotalPauseDuration() - pausedBefore,
                System.Runtime.JitInfo.GetCompilationTime() - jitBefore,
                warmup,
                $"{loadBefore} / {MachineCpu.LoadAverage()}",
                sampler.Samples,
                sampler.Contentions,
                sampler.Collections);
            ScenarioRunner.Say($"paced: clients done ({done} finished of all)");
            await child.WaitForExitAsync(cancellationToken);
            return child.ExitCode == 0 ? window : throw new InvalidOperationException($"the paced-clients process exited with {child.ExitCode}");
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }
    }

    private static Process StartClients(ScenarioContext context, HubUnderTest hub, Settings settings, TimeSpan runTimeout, string output)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(PacedClients).Assembly.Location);
        }

        foreach (var arg in new[]
        {
            PacedClients.CommandName,
            "--hub-url", hub.HubUrl(0).ToString(),
            "--user-prefix", UserPrefix,
            "--count", settings.Replays.ToString(CultureInfo.InvariantCulture),
            "--arrival-s", settings.Arrival.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            "--recording", Recording,
            "--warmup-prefix", WarmupPrefix,
            "--warmup", settings.Warmup.ToString(CultureInfo.InvariantCulture),
            "--warmup-recording", WarmupRecording,
            "--run-timeout-s", runTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            "--out", output,
            "--timeout", settings.TimeoutSeconds.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[PacedClients.DatabaseVariable] = context.Database.ConnectionString;
        start.Environment["DOTNET_gcServer"] = "0"; // the clients are not what is measured; keep their process small
        return Process.Start(start) ?? throw new InvalidOperationException("the paced-clients process did not start");
    }

    /// <summary>
    /// Lets the child run warm-up rounds until the hub's tiered JIT has settled (<see cref="JitSettle"/>, at least
    /// <see cref="Settings.WarmupMin"/>, at most <see cref="Settings.WarmupMax"/>). Then the child finishes its round and says READY.
    /// </summary>
    private static async Task<Warmup> WarmUpAsync(Process child, Settings settings, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var (_, settled) = await JitSettle.WaitAsync(settings.WarmupMin, settings.WarmupMax, () =>
        {
            if (child.HasExited)
            {
                throw new InvalidOperationException($"the paced-clients process exited with {child.ExitCode} during the warm-up");
            }
        }, cancellationToken);
        await child.StandardInput.WriteLineAsync("WARM".AsMemory(), cancellationToken);
        var rounds = await ExpectAsync(child, "READY", cancellationToken);
        return new Warmup(Stopwatch.GetElapsedTime(start), settled, int.Parse(rounds, CultureInfo.InvariantCulture));
    }

    /// <summary>Reads the child's next line; it must start with <paramref name="word"/>. Returns the rest of the line.</summary>
    private static async Task<string> ExpectAsync(Process child, string word, CancellationToken cancellationToken)
    {
        var line = await child.StandardOutput.ReadLineAsync(cancellationToken)
            ?? throw new InvalidOperationException($"the paced-clients process ended before '{word}'");
        return line.StartsWith(word, StringComparison.Ordinal)
            ? line[word.Length..].Trim()
            : throw new InvalidOperationException($"expected '{word}' from the paced-clients process, got '{line}'");
    }

    /// <summary>
    /// Each raw's <c>create_time</c> and, once it was marked sent, its <c>update_time</c> (the sent mark's statement
    /// start, after SignalR took the envelope), as UTC ticks, by interaction and seq.
    /// </summary>
    private static async Task<Dictionary<(string InteractionId, long Seq), (long Created, long? Sent)>> ReadRawTimesAsync(
        BenchDatabase database, IReadOnlyList<PacedRun> runs, CancellationToken cancellationToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string InteractionId, long Seq, DateTime CreateTime, DateTime? SentTime)>(new CommandDefinition(
            RawTimesSql, new { ids = runs.Select(r => r.InteractionId).ToArray() }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => (r.InteractionId, r.Seq), r => (Utc(r.CreateTime), r.SentTime is { } sent ? Utc(sent) : (long?)null));
    }

    private static long Utc(DateTime time) => DateTime.SpecifyKind(time, DateTimeKind.Utc).Ticks;

    private static void Write(Report report, bool redis, Settings settings, Plan plan, int maxRuns, PacedClientsOutput clients,
        IReadOnlyList<PacedRun> completed, Analysis analysis, Window window, StatementProfile statements)
    {
        var failed = clients.Runs.Where(r => r.Error is not null).ToList();
        report
            .Line($"- {settings.Replays} replays of `{settings.Source}`{(settings.Repeat > 1 ? $" (each subtask's tool calls but its submit {settings.Repeat} times over)" : "")} " +
                  $"imported as `{Recording}` with its records {Units.Number(settings.Gap.TotalMilliseconds)} ms apart: " +
                  $"{plan.Raws} raws in {plan.Gaps + 1} commits per replay with {plan.Gaps} pauses between them, so {Units.Number(plan.Expected.TotalSeconds, "0.0")} s " +
                  $"per replay at its pace (about {Units.Number((plan.Raws - 1) / plan.Expected.TotalSeconds, "0.00")} raws/s and " +
                  $"{Units.Number(plan.Gaps / plan.Expected.TotalSeconds, "0.00")} commits/s each)")
            .Line($"- reading the recording from PostgreSQL and parsing it, as a run does when no cache has it (rows, files, `XAgentRowReader`, " +
                  $"`XAgentReplayMapper`), took {Units.Ms(plan.LoadMs)} ms (median of {LoadSamples}, before the hub started) and " +
                  $"{Units.Ms(plan.LoadCpuMs)} ms of CPU (mean; process time has a 10 ms resolution)")
            .Line($"- clients arrive evenly over {Units.Number(settings.Arrival.TotalSeconds)} s, each its own user: connect (`RecorderClient`), `StartRecorderAsync`, " +
                  $"read to `finished`, close; they run in a child process (workstation GC), after rounds of {settings.Warmup} unmeasured pause-free warm-up replays, 8 at a time: " +
                  $"{window.Warmup.Rounds} rounds in {Units.Number(window.Warmup.Elapsed.TotalSeconds, "0")} s (at least {settings.WarmupMin.TotalSeconds:0} s, then until the hub's JIT settled: " +
                  $"{JitSettle.Verdict(window.Warmup.Settled, settings.WarmupMax)})")
            .Line($"- hub: one instance in the bench process, `Recorder:Replay:Speed=1`, `Recorder:Replay:MaxGap={settings.Gap}`, " +
                  $"`Recorder:Runs:MaxConcurrentRuns={maxRuns}`{(redis ? ", Redis backplane" : "")}, other settings default")
            .Line($"- finished: {Units.Int(completed.Count)} of {Units.Int(clients.Runs.Count)} replays, {Units.Int(analysis.Raws)} raws; " +
                  $"replays executing at once (first raw's to last raw's `create_time`): peak {Units.Int(analysis.PeakRuns)}" +
                  (failed.Count > 0 ? $"; **{failed.Count} failed**, first: {failed[0].Error}" : ""))
            .Heading("Against the target")
            .Table(new MarkdownTable("target", "measured: commit observed - create_time to client (lower - upper bound)", "met")
                .Add("commit to client p50 ≤ 5 ms", $"{Units.Ms(analysis.ObservedToClient.Median)} - {Units.Ms(analysis.CreateToClient.Median)} ms",
                    Verdict(analysis.ObservedToClient.Median, analysis.CreateToClient.Median, 5))
                .Add("commit to client p99 ≤ 50 ms", $"{Units.Ms(analysis.ObservedToClient.Percentile(99))} - {Units.Ms(analysis.CreateToClient.Percentile(99))} ms",
                    Verdict(analysis.ObservedToClient.Percentile(99), analysis.CreateToClient.Percentile(99), 50))
                .Add($"every run as long as its pacing says ({Units.Ms(plan.Expected.TotalMilliseconds)} ms)",
                    $"longer by {Units.Ms(analysis.Stretch.Min)} ms (min), {Units.Ms(analysis.Stretch.Median)} ms (median, " +
                    $"{Units.SignificantPercent(analysis.Stretch.Median / plan.Expected.TotalMilliseconds)}), {Units.Ms(analysis.Stretch.Max)} ms (max)",
                    analysis.Stretch.Max <= StretchAllowed * plan.Expected.TotalMilliseconds
                        ? $"yes: none longer by more than {StretchAllowed:0 %}"
                        : $"**no**: {Units.Int(analysis.Stretch.Count - analysis.Stretch.CountBelow(StretchAllowed * plan.Expected.TotalMilliseconds))} longer by more than {StretchAllowed:0 %}"))
            .Heading("Commit to client")
            .Table(new MarkdownTable("from", "to", "raws", "p50 ms", "p90 ms", "p99 ms", "max ms", "within 5 ms", "within 50 ms", "negative")
                .Add(LatencyRow("**the commit observed**: the earlier of rows 2 and 3 (a lower bound)", "`ReadMessagesAsync` hands the raw out", analysis.ObservedToClient))
                .Add(LatencyRow("the hub's append returned: end of the append command (Npgsql tracing in the hub's process)", "`ReadMessagesAsync` hands the raw out", analysis.ReturnedToClient))
                .Add(LatencyRow("the bench's own `LISTEN` had the `raw_committed` notification (in the clients' process)", "`ReadMessagesAsync` hands the raw out", analysis.NoticeToClient))
                .Add(LatencyRow("**the raw's `create_time`**: `now()`, the append statement's start (an upper bound)", "`ReadMessagesAsync` hands the raw out", analysis.CreateToClient))
                .Add(LatencyRow("the raw's `create_time`", "the hub's append returned (the append statement: insert, commit, WAL flush, reply)", analysis.CreateToReturned)))
            .Line()
            .Line("The commit happens inside PostgreSQL after the statement's start (`create_time` = `now()`, the transaction's start) and " +
                  "before either of its observers learns of it: the hub's writer (its append command returns after the commit; this is what the " +
                  "`latency` scenario calls the commit) and the bench's own listener of `raw_committed` (PostgreSQL sends the notification after " +
                  "the commit, to the hub's listener and the bench's alike). So the true commit-to-client latency lies between row 1 and row 4. " +
                  "An observer's stamp is taken when its process gets to run; on a saturated machine either can be late by milliseconds, which " +
                  "shows as negative latencies in rows 2 and 3, and is why row 1 takes the earlier of the two. The raw's append command is " +
                  "found by its `create_time` lying within the command's span (the hub runs one append at a time) " +
                  $"({Units.Int(analysis.Unmatched)} raws matched no command and are missing from row 2; " +
                  $"{Units.Int(analysis.Unnotified)} raws had no notification and are missing from row 3). " +
                  "All times are `CLOCK_REALTIME` of this machine: `now()`/`clock_timestamp()` in PostgreSQL, `DateTime.UtcNow` in the clients' " +
                  "process and in the hub's (`Activity` start + duration). " +
                  $"Clock checks (PostgreSQL - clients' process): {string.Join(", ", clients.ClockChecks.Select(c => $"{Units.Number(c.OffsetMs, "0.000")} ms ± {Units.Number(c.RoundTripMs / 2, "0.000")}"))}; " +
                  $"wall clock - `Stopwatch` over the run: {Units.Number(clients.WallClockMinusStopwatchMs, "0.000")} ms (a clock step during the run would show here).")
            .Heading("Where commit to client goes (approximate)")
            .Table(new MarkdownTable("stage", "raws", "p50 ms", "p90 ms", "p99 ms", "max ms")
                .Add(StageRow("commit observed (row 1) to the start of the next delivery read (wake-up, the pass in progress, its state query)", analysis.Delivery.Wait))
                .Add(StageRow("the delivery read (`ListAfterAsync` for every subscription behind, one query)", analysis.Delivery.Read))
                .Add(StageRow("read done to `ReadMessagesAsync` (workspace reads, envelopes, outbox, SignalR, client)", analysis.Delivery.After))
                .Add(StageRow("of which at least: the sent mark (`raw.update_time`: the mark's statement start, after SignalR took the envelope) to `ReadMessagesAsync` (transport and client process)",
                    analysis.Delivery.SentToClient)))
            .Line()
            .Line("The delivery reads' spans come from Npgsql's tracing in the hub's process. Which read delivered a raw is not recorded; this " +
                  "takes the first read that started after the commit was observed " +
                  $"({Units.Int(analysis.Delivery.Earlier)} raws reached the client before that read ended, so an earlier read had them; they are left out).")
            .Heading("Commit to client over time (5 s windows of `create_time`)")
            .Table(BucketTable(analysis, window))
            .Heading("Pacing: is a replay as long as its recording says?")
            .Table(new MarkdownTable("measure", "median ms", "p90 ms", "p99 ms", "max ms")
                .Add(StretchRow($"stretch: `StartRecorderAsync` called to `finished` received, minus {Units.Ms(plan.Expected.TotalMilliseconds)} ms", analysis.Stretch))
                .Add(StretchRow("of which: `StartRecorderAsync` called to the first raw received (request, claim, recording, first commit, delivery)", analysis.StartToFirst))
                .Add(StretchRow($"of which: the replay's own drift, first to last raw's `create_time` minus {Units.Ms(plan.Expected.TotalMilliseconds)} ms", analysis.Drift))
                .Add(StretchRow($"the replay's drift per pause ({plan.Gaps} pauses)", analysis.Drift, plan.Gaps))
                .Add(StretchRow("connect (arrival to `ConnectAsync` returned)", analysis.Connect)))
            .Heading("Group commits (append statements, told apart by their `create_time`)")
            .Table(new MarkdownTable("statements", "statements/s (first to last create_time)", "raws per statement median", "p90", "max")
                .Add(Units.Int(analysis.Statements.Count), Units.Number(analysis.StatementsPerSecond),
                    Units.Number(analysis.Statements.Median), Units.Number(analysis.Statements.Percentile(90)), Units.Number(analysis.Statements.Max)))
            .Heading("Cost (the measured window: first arrival to last `finished`)")
            .Table(new MarkdownTable("window s", "hub database commands per raw", "hub database commands in flight (mean)", "hub process CPU per raw ms",
                    "of which JIT compiling ms", "hub allocated per raw", "hub GC pauses (sum) ms", "client process CPU per raw ms", "PostgreSQL backends of the bench database, CPU per raw ms",
                    "machine CPU busy (all processes, 2 cores = 200 %)", "load average (1 min) at start / end")
                .Add(Units.Number(window.WallMs / 1000, "0.0"), Units.Number((double)window.Queries.Commands / analysis.Raws, "0.00"),
                    Units.Number(window.Queries.Milliseconds / window.WallMs, "0.00"), Units.Number(window.Cpu.TotalMilliseconds / analysis.Raws, "0.00"),
                    Units.Number(window.Jit.TotalMilliseconds / analysis.Raws, "0.000"), Units.Bytes((double)window.Allocated / analysis.Raws), Units.Ms(window.GcPauses.TotalMilliseconds),
                    Units.Number(clients.CpuMs / analysis.Raws, "0.00"), Units.Number(window.BackendCpuMs / analysis.Raws, "0.00"),
                    Units.Number(window.Machine.BusyFraction * 100 * Environment.ProcessorCount) + " %", window.Load))
            .Line()
            .Line("Commands: Npgsql's own metric, the hub's pool only (the clients' process and the bench's reads do not count). " +
                  "CPU: this process is the hub (and nothing else while the window runs; Npgsql tracing is on in it for the window); the client " +
                  "process is the child; the PostgreSQL figure sums the backends whose process title names the bench database (not the WAL " +
                  "writer, checkpointer or other databases); the machine figure is `/proc/stat` over the window and includes whatever else " +
                  "shares the machine.")
            .Heading("Hub process while the window ran (sampled every 100 ms)")
            .Table(RuntimeTable(window))
            .Line()
            .Line($"Lock contentions in the hub's process: {Units.Int(window.Contentions)} ({Units.Number(window.Contentions / (window.WallMs / 1000))}/s); " +
                  $"GCs gen0/gen1/gen2: {string.Join("/", window.Collections)}, pauses {Units.Ms(window.GcPauses.TotalMilliseconds)} ms in all. " +
                  "The hub's database pool holds at most 100 connections (Npgsql's default; the hub does not set one).")
            .Heading("Hub database statements in the window (Npgsql tracing)")
            .Table(statements.Table(analysis.Raws));
    }

    private static MarkdownTable RuntimeTable(Window window)
    {
        var table = new MarkdownTable("measure", "median", "p90", "p99", "max");
        foreach (var (name, values) in new (string, Func<RuntimeSample, double>)[]
        {
            ("hub process CPU, % of one core (per 100 ms)", s => s.CpuPercent),
            ("thread-pool work items queued", s => s.PendingWorkItems),
            ("thread-pool threads", s => s.Threads),
            ("hub database pool: connections in use", s => s.PoolInUse),
            ("hub database pool: opens waiting for a connection", s => s.PoolPending),
        })
        {
            var stats = Stats.Of(window.Samples.Select(values));
            table.Add(name, Units.Number(stats.Median), Units.Number(stats.Percentile(90)), Units.Number(stats.Percentile(99)), Units.Number(stats.Max));
        }

        return table;
    }

    private static string Verdict(double lower, double upper, double limit) =>
        upper <= limit ? "yes" : lower > limit ? "**no**" : "at the commit (row 1 below) yes; from the statement's start (row 4) no";

    private static string[] LatencyRow(string from, string to, Stats latency) =>
    [
        from, to, Units.Int(latency.Count), Units.Ms(latency.Median), Units.Ms(latency.Percentile(90)), Units.Ms(latency.Percentile(99)),
        Units.Ms(latency.Max), Units.Percent(latency.FractionAtMost(5)), Units.Percent(latency.FractionAtMost(50)),
        Units.Int(latency.CountBelow(0)),
    ];

    private static string[] StageRow(string stage, Stats stats) =>
        [stage, Units.Int(stats.Count), Units.Ms(stats.Median), Units.Ms(stats.Percentile(90)), Units.Ms(stats.Percentile(99)), Units.Ms(stats.Max)];

    private static string[] StretchRow(string measure, Stats stats, int per = 1) =>
        [measure, Units.Ms(stats.Median / per), Units.Ms(stats.Percentile(90) / per), Units.Ms(stats.Percentile(99) / per), Units.Ms(stats.Max / per)];

    private static MarkdownTable BucketTable(Analysis analysis, Window window)
    {
        var table = new MarkdownTable("window (s after the first raw)", "raws", "replays executing (mean)", "clients arriving", "commit observed to client p50 ms", "p99 ms",
            "create_time to client p50 ms", "p99 ms", "hub CPU % of a core (mean)", "thread-pool queue (max)");
        foreach (var bucket in analysis.Buckets)
        {
            var from = analysis.Origin + (long)(bucket.Start * TimeSpan.TicksPerSecond);
            var samples = window.Samples.Where(s => s.Ticks >= from && s.Ticks < from + Bucket.Ticks).ToList();
            table.Add($"{bucket.Start:0}-{bucket.Start + Bucket.TotalSeconds:0}", Units.Int(bucket.CreateToClient.Count), Units.Number(bucket.Executing),
                Units.Int(bucket.Arrivals), Units.Ms(bucket.ObservedToClient.Median), Units.Ms(bucket.ObservedToClient.Percentile(99)),
                Units.Ms(bucket.CreateToClient.Median), Units.Ms(bucket.CreateToClient.Percentile(99)),
                samples.Count == 0 ? "-" : Units.Number(samples.Average(s => s.CpuPercent)),
                samples.Count == 0 ? "-" : Units.Int(samples.Max(s => s.PendingWorkItems)));
        }

        return table;
    }

    /// <summary>
    /// A run is "as long as its pacing says" when at most this much longer: its start (request, claim, first commit and
    /// delivery) and the timers of its pauses cost milliseconds, a backlog (the original's failure) costs seconds.
    /// </summary>
    private const double StretchAllowed = 0.01;

    /// <summary>How long the warm-up took, whether the JIT settled in it, and how many rounds the child ran.</summary>
    private sealed record Warmup(TimeSpan Elapsed, bool Settled, int Rounds);

    private sealed record Settings(int Replays, TimeSpan Arrival, TimeSpan Gap, int Warmup, TimeSpan WarmupMin, TimeSpan WarmupMax, int Repeat,
        string Source, int TimeoutSeconds);

    /// <summary>What one replay of the paced recording is: raws written, pauses, and the sum of its pauses.</summary>
    private sealed record Plan(int Raws, int Gaps, TimeSpan Expected, double LoadMs, double LoadCpuMs);

    /// <summary>What the hub's side cost over the measured window.</summary>
    private sealed record Window(double WallMs, QuerySnapshot Queries, TimeSpan Cpu, MachineCpu Machine, double BackendCpuMs, long Allocated, TimeSpan GcPauses, TimeSpan Jit, Warmup Warmup,
        string Load, IReadOnlyList<RuntimeSample> Samples, long Contentions, IReadOnlyList<int> Collections);

    /// <summary>
    /// Commit to client in three stages, per raw, around the first delivery read that started after the commit was
    /// observed: waiting for that read, the read itself, and everything after it up to the client.
    /// </summary>
    private sealed record Breakdown(Stats Wait, Stats Read, Stats After, int Earlier, Stats SentToClient);

    /// <summary>The latencies of one 5 s window of commits.</summary>
    private sealed record BucketResult(double Start, Stats ObservedToClient, Stats CreateToClient, double Executing, int Arrivals);

    /// <summary>One raw's stamps (UTC ticks): its statement's start, that statement's return in the hub, the bench's notification, its sent mark, the client's receipt.</summary>
    private readonly record struct RawTimes(long Created, long? Returned, long? Noticed, long? Sent, long Received)
    {
        /// <summary>The earlier of the two observations of the commit, if any.</summary>
        public long? Observed => (Returned, Noticed) switch
        {
            ({ } returned, { } noticed) => Math.Min(returned, noticed),
            _ => Returned ?? Noticed,
        };
    }

    /// <summary>Every measure of the completed runs, from the clients' stamps, the hub's append and read commands, the notifications and the raws' create_time.</summary>
    private sealed record Analysis(
        int Raws,
        Stats ObservedToClient,
        Stats ReturnedToClient,
        Stats NoticeToClient,
        Stats CreateToClient,
        Stats CreateToReturned,
        int Unmatched,
        int Unnotified,
        Stats Stretch,
        Stats StartToFirst,
        Stats Drift,
        Stats Connect,
        Stats Statements,
        double StatementsPerSecond,
        int PeakRuns,
        IReadOnlyList<BucketResult> Buckets,
        long Origin,
        Breakdown Delivery)
    {
        public static Analysis Of(IReadOnlyList<PacedRun> runs, IReadOnlyDictionary<(string, long), (long Created, long? Sent)> times,
            IReadOnlyList<CommitNotice> notices, IReadOnlyList<StatementSpan> appends, IReadOnlyList<StatementSpan> reads, Plan plan)
        {
            var noticesOf = notices.GroupBy(n => n.InteractionId, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.OrderBy(n => n.ReceivedTicks).ToList(), StringComparer.Ordinal);
            var appendStarts = appends.Select(a => a.StartTicks).ToArray();
            var raws = new List<RawTimes>();
            foreach (var run in runs)
            {
                var own = noticesOf.GetValueOrDefault(run.InteractionId) ?? [];
                for (var seq = 1; seq <= run.Received.Count; seq++)
                {
                    var (commit, sent) = times.TryGetValue((run.InteractionId, seq), out var t)
                        ? t
                        : throw new InvalidOperationException($"raw {seq} of {run.InteractionId} is not in the database");

                    // The hub writes one append statement at a time: the one whose span holds the statement's start.
                    var span = Before(appendStarts, commit) is var i and >= 0 && appends[i].EndTicks >= commit ? appends[i] : null;
                    raws.Add(new RawTimes(commit, span?.EndTicks, own.Find(n => n.LastSeq >= seq)?.ReceivedTicks, sent, run.Received[seq - 1]));
                }
            }

            var spans = runs.Select(r => (First: times[(r.InteractionId, 1)].Created, Last: times[(r.InteractionId, r.Received.Count)].Created)).ToList();
            var statements = times.Values.GroupBy(t => t.Created).Select(g => (double)g.Count()).ToList();
            var firstCommit = spans.Min(s => s.First);
            var lastCommit = spans.Max(s => s.Last);
            var expectedMs = plan.Expected.TotalMilliseconds;
            return new Analysis(
                raws.Count,
                Stats.Of(raws.Where(r => r.Observed is not null).Select(r => Ms(r.Received - r.Observed!.Value))),
                Stats.Of(raws.Where(r => r.Returned is not null).Select(r => Ms(r.Received - r.Returned!.Value))),
                Stats.Of(raws.Where(r => r.Noticed is not null).Select(r => Ms(r.Received - r.Noticed!.Value))),
                Stats.Of(raws.Select(r => Ms(r.Received - r.Created))),
                Stats.Of(raws.Where(r => r.Returned is not null).Select(r => Ms(r.Returned!.Value - r.Created))),
                raws.Count(r => r.Returned is null),
                raws.Count(r => r.Noticed is null),
                Stats.Of(runs.Select(r => Ms(r.Received[^1] - r.StartCalledTicks) - expectedMs)),
                Stats.Of(runs.Select(r => Ms(r.Received[0] - r.StartCalledTicks))),
                Stats.Of(spans.Select(s => Ms(s.Last - s.First) - expectedMs)),
                Stats.Of(runs.Select(r => Ms(r.ConnectedTicks - r.ArrivalTicks))),
                Stats.Of(statements),
                statements.Count / Math.Max(0.001, Ms(lastCommit - firstCommit) / 1000),
                Peak(spans),
                ByWindow(raws, spans, [.. runs.Select(r => r.ArrivalTicks)], firstCommit),
                firstCommit,
                Stages(raws, reads));
        }

        private static double Ms(long ticks) => (double)ticks / TimeSpan.TicksPerMillisecond;

        /// <summary>The index of the last of the sorted <paramref name="starts"/> at or before <paramref name="ticks"/>; -1 when none.</summary>
        private static int Before(long[] starts, long ticks)
        {
            var i = Array.BinarySearch(starts, ticks);
            return i >= 0 ? i : ~i - 1;
        }

        private static Breakdown Stages(IReadOnlyList<RawTimes> raws, IReadOnlyList<StatementSpan> reads)
        {
            var starts = reads.Select(r => r.StartTicks).ToArray();
            var stages = new List<(double Wait, double Read, double After)>();
            var earlier = 0;
            foreach (var raw in raws)
            {
                if (raw.Observed is not { } observed)
                {
                    continue;
                }

                // A read that started after the commit was observed sees the raw; one that started a little earlier may have too.
                var next = Before(starts, observed - 1) + 1;
                if (next < reads.Count && reads[next].EndTicks <= raw.Received)
                {
                    var read = reads[next];
                    stages.Add((Ms(read.StartTicks - observed), Ms(read.EndTicks - read.StartTicks), Ms(raw.Received - read.EndTicks)));
                }
                else
                {
                    earlier++;
                }
            }

            return new Breakdown(Stats.Of(stages.Select(s => s.Wait)), Stats.Of(stages.Select(s => s.Read)), Stats.Of(stages.Select(s => s.After)), earlier,
                Stats.Of(raws.Where(r => r.Sent is not null).Select(r => Ms(r.Received - r.Sent!.Value))));
        }

        private static int Peak(IEnumerable<(long First, long Last)> spans)
        {
            var events = spans.SelectMany(s => new[] { (s.First, 1), (s.Last, -1) }).OrderBy(e => e.Item1).ThenBy(e => e.Item2);
            int current = 0, peak = 0;
            foreach (var (_, change) in events)
            {
                current += change;
                peak = Math.Max(peak, current);
            }

            return peak;
        }

        private static List<BucketResult> ByWindow(IReadOnlyList<RawTimes> raws, IReadOnlyList<(long First, long Last)> spans, IReadOnlyList<long> arrivals, long origin)
        {
            var width = Bucket.Ticks;
            return [.. raws.GroupBy(r => (r.Created - origin) / width).OrderBy(g => g.Key).Select(g =>
            {
                var from = origin + g.Key * width;
                var to = from + width;
                var executing = spans.Sum(s => Math.Max(0, Math.Min(s.Last, to) - Math.Max(s.First, from))) / (double)width;
                return new BucketResult(g.Key * Bucket.TotalSeconds,
                    Stats.Of(g.Where(r => r.Observed is not null).Select(r => Ms(r.Received - r.Observed!.Value))),
                    Stats.Of(g.Select(r => Ms(r.Received - r.Created))), executing, arrivals.Count(a => a >= from && a < to));
            })];
        }
    }
}

/// <summary>CPU time of the whole machine from the first line of <c>/proc/stat</c> (jiffies); zero where there is none.</summary>
internal readonly record struct MachineCpu(long Busy, long Total)
{
    public double BusyFraction => Total > 0 ? (double)Busy / Total : double.NaN;

    public static MachineCpu Read()
    {
        if (!File.Exists("/proc/stat"))
        {
            return default;
        }

        // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var idle = fields[3] + fields[4];
        var total = fields.Sum();
        return new MachineCpu(total - idle, total);
    }

    /// <summary>The 1-minute load average from <c>/proc/loadavg</c>, or "?".</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    public static MachineCpu operator -(MachineCpu after, MachineCpu before) => new(after.Busy - before.Busy, after.Total - before.Total);
}

/// <summary>
/// CPU time of the PostgreSQL backends serving one database, from <c>/proc</c>: processes whose title names the database
/// (<c>postgres: user database host(port) state</c>), <c>utime + stime</c> at 100 ticks per second. A backend that
/// exits between two readings loses what it used after the first.
/// </summary>
internal static class BackendCpu
{
    private const double MsPerTick = 10;

    public static IReadOnlyDictionary<int, long> Read(string database)
    {
        var ticks = new Dictionary<int, long>();
        if (!Directory.Exists("/proc"))
        {
            return ticks;
        }

        var name = $" {database} ";
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                if (!File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(name, StringComparison.Ordinal))
                {
                    continue;
                }

                // After "(comm)": state ppid ... utime is the 12th field, stime the 13th.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks[pid] = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // the process ended meanwhile
            }
        }

        return ticks;
    }

    public static double MsSince(IReadOnlyDictionary<int, long> before, IReadOnlyDictionary<int, long> after) =>
        after.Sum(p => p.Value - before.GetValueOrDefault(p.Key)) * MsPerTick;
}
