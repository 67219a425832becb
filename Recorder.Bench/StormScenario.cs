using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dapper;

namespace Recorder.Bench;

/// <summary>
/// Two of the issue's targets. The connect rate: K clients (each its own user, so <c>CheckRunning</c> refuses none)
/// connecting as fast as P connects in flight allow, each creating an interaction. Then the reconnect storm: with
/// the K clients attached and idle, the hub instance is stopped gracefully and a new one started on the same port;
/// measured is how long after the new instance's <c>StartAsync</c> returned every client had reconnected and its
/// <c>Resume</c> had completed, and which part of that is the clients' own reconnect back-off. The clients run in a
/// child process (<see cref="IdleClients"/>, each watched by a <see cref="ReconnectProbe"/>), so that this process
/// is the hub's.
/// </summary>
internal static class StormScenario
{
    private const string Prefix = "s";
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(30);

    // RecorderClient's reconnect policy: at once, then 250 ms doubling, at most 5 s between attempts.
    private static readonly double[] RetryDelaysSeconds = [0, 0.25, 0.5, 1, 2, 4, 5, 5];

    private static readonly Option<int> ClientsOption = new("--clients")
    {
        Description = "Clients that connect (the measured connects) and then go through the restart.",
        DefaultValueFactory = _ => 2000,
    };

    private static readonly Option<int> WarmupOption = new("--warmup")
    {
        Description = "Clients connected before the measured connects (they warm up both processes; they go through the restart too).",
        DefaultValueFactory = _ => 20,
    };

    private static readonly Option<int> ChurnOption = new("--churn")
    {
        Description = "Clients connected and closed again before the warm-up clients, in the bare run and in Recorder's (each its own user): " +
            "they warm both processes up, and then the bench waits for the JIT to settle (and for the hub to close their interactions).",
        DefaultValueFactory = _ => 2000,
    };

    private static readonly Option<int> WarmupSecondsOption = new("--warmup-seconds")
    {
        Description = "After the churn, wait at least this long (and until the JIT has settled: under 2 % of the process's CPU of 10 s compiling).",
        DefaultValueFactory = _ => 10,
    };

    private static readonly Option<int> WarmupMaxSecondsOption = new("--warmup-max-seconds")
    {
        Description = "After the churn, wait at most this long for the JIT to settle; the report says whether it did.",
        DefaultValueFactory = _ => 120,
    };

    private static readonly Option<int> ParallelismOption = new("--parallelism")
    {
        Description = "Connects in flight at once.",
        DefaultValueFactory = _ => 64,
    };

    private static readonly Option<int> StormTimeoutOption = new("--storm-timeout")
    {
        Description = "Seconds the clients have to resume after the old instance began to stop; those that have not count as failed.",
        DefaultValueFactory = _ => 60,
    };

    private static readonly Option<string?> DetailsOption = new("--details")
    {
        Description = "A file to write the restart's timestamps and every client's reconnect timestamps to (JSON, Stopwatch ticks).",
    };

    private static readonly Option<int> IdleSecondsOption = new("--idle-seconds")
    {
        Description = "Window, before any client connects, in which the hub's own housekeeping commands are counted.",
        DefaultValueFactory = _ => 5,
    };

    public static Command CreateCommand()
    {
        var command = new Command("storm", "Connect rate (each connect creates an interaction), then a reconnect storm after a hub restart.")
        {
            ClientsOption, WarmupOption, ChurnOption, WarmupSecondsOption, WarmupMaxSecondsOption, ParallelismOption, StormTimeoutOption, IdleSecondsOption, DetailsOption,
        };
        BenchEnvironment.AddCommonOptions(command);
        command.SetAction((parse, ct) =>
        {
            var settings = new Settings(
                Math.Max(1, parse.GetValue(ClientsOption)),
                Math.Max(0, parse.GetValue(WarmupOption)),
                Math.Max(0, parse.GetValue(ChurnOption)),
                TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(WarmupSecondsOption))),
                TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(WarmupMaxSecondsOption))),
                Math.Max(1, parse.GetValue(ParallelismOption)),
                TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(StormTimeoutOption))),
                TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(IdleSecondsOption))),
                parse.GetValue(BenchEnvironment.TimeoutOption),
                parse.GetValue(DetailsOption));
            return ScenarioRunner.RunAsync("storm", parse, context => RunAsync(context, settings), ct);
        });
        return command;
    }

    private static async Task RunAsync(ScenarioContext context, Settings settings)
    {
        var ct = context.Cancellation;
        var total = settings.Warmup + settings.Clients;
        var loadAverage = LoadAverage();
        await context.Database.SeedUsersAsync(BenchUser.Many(Prefix, total + settings.Churn), ct);
        var bare = await MeasureBareConnectsAsync(settings, ct);
        using var queries = new QueryCounter(context.Database.Name);
        using var upgrades = new UpgradedConnections();
        await using var hub = await HubUnderTest.StartAsync(context.Environment, context.Database, [], context.Redis, instances: 1, fixedPorts: true, ct);

        await Task.Delay(Settle, ct);
        var idleBefore = queries.Snapshot();
        await Task.Delay(settings.Idle, ct);
        var housekeeping = (queries.Snapshot() - idleBefore).Commands / settings.Idle.TotalSeconds;

        var step = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        using var child = IdleClientsProcess.Start(hub.HubUrl(0), Prefix, settings.Warmup, settings.Clients, settings.Parallelism, probe: true, settings.TimeoutSeconds,
            churn: settings.Churn);
        await child.ExpectAsync("WARM", step, ct);
        var warmed = await SettleAsync(settings, () => WaitForChurnClosedAsync(context.Database, ct), ct);
        ScenarioRunner.Say($"storm: {hub.AttachedConnections} warm-up clients attached; connecting {settings.Clients} more, {settings.Parallelism} at a time");
        var beforeConnects = queries.Snapshot();
        var hubCpu = Environment.CpuUsage.TotalTime;
        await child.SendAsync("GO", ct);
        var connected = JsonSerializer.Deserialize<ConnectReport>(await child.ExpectAsync("CONNECTED", step, ct))
            ?? throw new InvalidOperationException("no connect report");
        var connectQueries = queries.Snapshot() - beforeConnects;
        var connectHubCpu = (Environment.CpuUsage.TotalTime - hubCpu).TotalSeconds;
        var connectHubFds = ProcessSnapshot.OpenFileDescriptors();
        ScenarioRunner.Say($"storm: {connected.Connected} connected in {connected.TotalSeconds:0.00} s ({connected.Connected / connected.TotalSeconds:0} connects/s)");

        await WaitForAttachedAsync(hub, total, ct);
        await Task.Delay(Settle, ct);
        var presenceBefore = await context.Database.ReadPresenceAsync(ct);

        ScenarioRunner.Say($"storm: {hub.AttachedConnections} attached; restarting the hub on {hub.HubUrl(0).Authority}");
        await child.SendAsync("STORM " + settings.StormTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture), ct);
        await child.ExpectAsync("ARMED", step, ct);
        var q0 = queries.Snapshot();
        hubCpu = Environment.CpuUsage.TotalTime;
        var (stopping, stopped, disposed) = await hub.StopInstanceAsync(0, ct);
        var q1 = queries.Snapshot();
        var (built, started) = await hub.StartInstanceAsync(0, ct);
        var q2 = queries.Snapshot();
        var restart = new HubRestart(stopping, stopped, disposed, built, started);
        ScenarioRunner.Say($"storm: stopped in {restart.StopMs:0} ms, new instance started {restart.DowntimeMs:0} ms after the stop began; waiting for the clients to resume");

        var storm = JsonSerializer.Deserialize<StormReport>(await child.ExpectAsync("RESUMED", settings.StormTimeout + step, ct))
            ?? throw new InvalidOperationException("no storm report");
        var q3 = queries.Snapshot();
        var stormHubCpu = (Environment.CpuUsage.TotalTime - hubCpu).TotalSeconds;
        var stormHubFds = ProcessSnapshot.OpenFileDescriptors();
        var attachedAfter = hub.AttachedConnections;
        var presenceAfter = await context.Database.ReadPresenceAsync(ct);
        await child.StopAsync(step, ct);

        var result = StormResult.Of(storm, restart);
        var server = new ServerSide(upgrades.Ended(stopping, started), upgrades.Opened(started, result.LastResumed));
        if (settings.Details is { } details)
        {
            await File.WriteAllTextAsync(details, JsonSerializer.Serialize(new { restart, storm.Armed, storm.Clients, server.Ended, server.Opened }), ct);
        }

        ScenarioRunner.Say($"storm: {result.Resumed.Count} of {total} resumed, the last {Units.Ms(result.AfterStart.Max)} ms after the new instance started");
        Write(context.Report, settings, context.Redis, connected, bare, warmed, connectQueries, housekeeping, restart, result,
            new StormQueries(q1 - q0, q2 - q1, q3 - q2, Units.ElapsedMs(started, result.LastResumed) / 1000), presenceBefore, presenceAfter, attachedAfter, storm.States,
            new Cpu(connectHubCpu, connected.CpuSeconds, stormHubCpu, storm.CpuSeconds, Units.ElapsedMs(stopping, result.LastResumed) / 1000, loadAverage),
            new Descriptors(connectHubFds, connected.FileDescriptors, stormHubFds, storm.FileDescriptors), server);
    }

    /// <summary>
    /// The bare limit of the connect rate, in the same run, before the Recorder hub starts: the same number of clients, from
    /// the same child process and as many in flight, connect to <see cref="BareSignalR"/> (no authentication, no database)
    /// and make one round trip each.
    /// </summary>
    private static async Task<BareConnects> MeasureBareConnectsAsync(Settings settings, CancellationToken cancellationToken)
    {
        var step = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        await using var bare = await BareSignalR.StartAsync(cancellationToken);
        using var child = IdleClientsProcess.Start(bare.HubUrl, Prefix, settings.Warmup, settings.Clients, settings.Parallelism, probe: false, settings.TimeoutSeconds,
            bare: true, churn: settings.Churn);
        await child.ExpectAsync("WARM", step, cancellationToken);
        var warmed = await SettleAsync(settings, () => Task.CompletedTask, cancellationToken);
        var cpu = Environment.CpuUsage.TotalTime;
        await child.SendAsync("GO", cancellationToken);
        var report = JsonSerializer.Deserialize<ConnectReport>(await child.ExpectAsync("CONNECTED", step, cancellationToken))
            ?? throw new InvalidOperationException("no connect report");
        var serverCpu = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
        await child.StopAsync(step, cancellationToken);
        ScenarioRunner.Say($"storm: bare SignalR: {report.Connected} connected in {report.TotalSeconds:0.00} s ({report.Connected / report.TotalSeconds:0} connects/s)");
        return new BareConnects(report, serverCpu, warmed);
    }

    /// <summary>Waits (at most 30 s) until the hub holds <paramref name="count"/> attached connections.</summary>
    private static async Task WaitForAttachedAsync(HubUnderTest hub, int count, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(AttachTimeout);
        try
        {
            while (hub.AttachedConnections < count)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"only {hub.AttachedConnections} of {count} connections attached after {AttachTimeout.TotalSeconds} s");
        }
    }

    private static void Write(Report report, Settings settings, bool redis, ConnectReport connected, BareConnects bare, Warmed warmed, QuerySnapshot connectQueries, double housekeeping,
        HubRestart restart, StormResult result, StormQueries queries, InteractionPresence before, InteractionPresence after, int attachedAfter,
        IReadOnlyDictionary<string, int> states, Cpu cpu, Descriptors fds, ServerSide server)
    {
        var total = settings.Warmup + settings.Clients;
        var connectNet = connectQueries.Commands - housekeeping * connected.TotalSeconds;
        report
            .Line($"- {settings.Clients} clients connected as fast as {settings.Parallelism} connects in flight allow (after {settings.Warmup} warm-up clients); " +
                  "each its own user and a new interaction (`waiting`, never started); the clients run in a child process")
            .Line($"- warm-up before the measured connects, in the bare run: {bare.Warmed.Describe(settings.Churn, settings.WarmupMax)}; in Recorder's: {warmed.Describe(settings.Churn, settings.WarmupMax)} " +
                  "(and the hub had closed the churn's interactions after their disconnect grace)")
            .Line("- hub: one instance in the bench process on a fixed port, product defaults (replay speed 0, `Recorder:Auth:CheckRunning=true`, " +
                  "`Recorder:Runs:DisconnectGrace` 15 s)" + (redis ? ", Redis backplane" : ""))
            .Line($"- the machine's load average (1 min) when the run began: {cpu.LoadAverage ?? "?"}; hub, clients and PostgreSQL share its {Environment.ProcessorCount} cores")
            .Line($"- the hub's own housekeeping with no client: {Units.Number(housekeeping, "0.0")} database commands/s (counted before the connects, subtracted below where it says net)")
            .Heading("Connect rate")
            .Table(new MarkdownTable("server", "clients", "connects/s", "connect median ms", "p90 ms", "p99 ms", "max ms", "hub database commands per connect (net)",
                    "server CPU per connect", "mean database command ms")
                .Add("Recorder", Units.Int(connected.Connected), Units.Number(connected.Connected / connected.TotalSeconds), Units.Ms(connected.MedianMs),
                    Units.Ms(connected.P90Ms), Units.Ms(connected.P99Ms), Units.Ms(connected.MaxMs),
                    $"{Units.Number((double)connectQueries.Commands / connected.Connected, "0.00")} ({Units.Number(connectNet / connected.Connected, "0.00")})",
                    Units.Ms(cpu.ConnectHub * 1000 / connected.Connected) + " ms", Units.Ms(connectQueries.Milliseconds / connectQueries.Commands))
                .Add("bare SignalR", Units.Int(bare.Report.Connected), Units.Number(bare.Report.Connected / bare.Report.TotalSeconds), Units.Ms(bare.Report.MedianMs),
                    Units.Ms(bare.Report.P90Ms), Units.Ms(bare.Report.P99Ms), Units.Ms(bare.Report.MaxMs), "-",
                    Units.Ms(bare.ServerCpu * 1000 / bare.Report.Connected) + " ms", "-"))
            .Line()
            .Line($"Recorder / bare SignalR connects/s = **{Units.Number(connected.TotalSeconds > 0 && bare.Report.TotalSeconds > 0 ? (connected.Connected / connected.TotalSeconds) / (bare.Report.Connected / bare.Report.TotalSeconds) : double.NaN, "0.00")}**. " +
                  "The bare SignalR row is measured first, in the same run: the same number of clients from the same child process, as many in flight, " +
                  "connect to a minimal hub in this process (`BareSignalR`: negotiate, WebSocket, handshake; no authentication, no database) and make one " +
                  $"round trip each; its client process used {Units.Number(bare.Report.CpuSeconds, "0.00")} s of CPU.")
            .Line()
            .Line($"connects/s = clients / wall time of all their connects ({Units.Number(connected.TotalSeconds, "0.00")} s). A connect is " +
                  "`RecorderClient.ConnectAsync`: negotiate, WebSocket, authentication (user lookup), interaction insert and attach (one round trip), " +
                  "the `connect` message, and the `Resume(id, 0)` round trip. " +
                  $"CPU used meanwhile: hub process {Units.Number(cpu.ConnectHub, "0.00")} s, client process {Units.Number(cpu.ConnectClients, "0.00")} s.")
            .Heading("Reconnect storm after a hub restart")
            .Line($"With all {Units.Int(total)} clients attached and idle, the instance was stopped (`StopAsync`: SignalR closes every connection, " +
                  "each detach is written, the instance deregisters) and disposed, and a new instance built from the same settings was started on " +
                  "the same port. Each client reconnects on its own (`RecorderClient`'s policy) and `Resume`s; it counts as resumed when the " +
                  "completion of that `Resume` reached it (seen on its WebSocket by the bench's probe).")
            .Line()
            .Table(new MarkdownTable("clients", "resumed", "failed", "time to all resumed after the new instance's `StartAsync` returned", "p50 ms", "p90 ms",
                    "loss to resume, p50 / max ms", "hub database commands during the storm, per client (net)")
                .Add(Units.Int(total), Units.Int(result.Resumed.Count), Units.Int(result.Failed),
                    result.Failed == 0 ? Units.Ms(result.AfterStart.Max) + " ms" : $"not all ({result.Failed} missing)",
                    Units.Ms(result.AfterStart.Median), Units.Ms(result.AfterStart.Percentile(90)),
                    $"{Units.Ms(result.LossToResume.Median)} / {Units.Ms(result.LossToResume.Max)}",
                    $"{Units.Int(queries.Storm.Commands)}, {Units.Number((double)queries.Storm.Commands / total, "0.00")} " +
                    $"({Units.Number((queries.Storm.Commands - housekeeping * queries.StormSeconds) / total, "0.00")})"))
            .Line()
            .Line($"CPU used from the stop to the last resume ({Units.Number(cpu.StormSeconds, "0.00")} s): hub process {Units.Number(cpu.StormHub, "0.00")} s " +
                  $"({Units.Ms(cpu.StormHub * 1000 / total)} ms per client), client process {Units.Number(cpu.StormClients, "0.00")} s. " +
                  $"Mean hub database command time during the storm: {Units.Ms(queries.Storm.Milliseconds / queries.Storm.Commands)} ms.")
            .Heading("The restart")
            .Table(new MarkdownTable("old instance `StopAsync`", "dispose", "build the new one", "its `StartAsync`", "downtime (stop called to start returned)")
                .Add(Units.Ms(restart.StopMs), Units.Ms(restart.DisposeMs), Units.Ms(restart.BuildMs), Units.Ms(restart.StartMs), Units.Ms(restart.DowntimeMs)))
            .Line()
            .Line($"Server side (Kestrel's `kestrel.upgraded_connections`): the old instance ended {Units.Int(server.Ended.Count)} WebSocket connections " +
                  $"{Units.Ms(Since(restart.Stopping, server.Ended).Median)} ms (median) and at most {Units.Ms(Since(restart.Stopping, server.Ended).Max)} ms after its stop began; " +
                  $"the clients noticed their loss {Units.Ms(result.Lost.Median)} ms (median) and at most {Units.Ms(result.Lost.Max)} ms after it. " +
                  $"The new instance upgraded {Units.Int(server.Opened.Count)} connections, {Units.Ms(Since(restart.Started, server.Opened).Median)} ms (median) and at most " +
                  $"{Units.Ms(Since(restart.Started, server.Opened).Max)} ms after its `StartAsync` returned.")
            .Line()
            .Line($"Hub database commands: {Units.Int(queries.Stop.Commands)} while the old instance stopped ({Units.Number((double)queries.Stop.Commands / total, "0.00")} per connection: " +
                  $"each connection's detach, then the instance's removal), {Units.Int(queries.Start.Commands)} while the new one started, " +
                  $"{Units.Int(queries.Storm.Commands)} from then until the last client resumed ({Units.Number(queries.StormSeconds, "0.00")} s).")
            .Heading("Where the time after the restart went")
            .Table(new MarkdownTable("per resumed client, ms", "median", "p90", "max", "the slowest client")
                .Add("waiting for its next attempt while the hub was up (client back-off)", Units.Ms(result.Backoff.Median), Units.Ms(result.Backoff.Percentile(90)),
                    Units.Ms(result.Backoff.Max), Units.Ms(result.Slowest.Backoff))
                .Add("the attempt that got through: negotiate to resumed", Units.Ms(result.Work.Median), Units.Ms(result.Work.Percentile(90)),
                    Units.Ms(result.Work.Max), Units.Ms(result.Slowest.Work))
                .Add("- negotiate to WebSocket open", Units.Ms(result.Negotiate.Median), Units.Ms(result.Negotiate.Percentile(90)), Units.Ms(result.Negotiate.Max), Units.Ms(result.Slowest.Negotiate))
                .Add("- WebSocket open to connect envelope (hub: authentication, attach round trip)", Units.Ms(result.Attach.Median), Units.Ms(result.Attach.Percentile(90)), Units.Ms(result.Attach.Max), Units.Ms(result.Slowest.Attach))
                .Add("- connect envelope to `Resume` completed", Units.Ms(result.ResumeTrip.Median), Units.Ms(result.ResumeTrip.Percentile(90)), Units.Ms(result.ResumeTrip.Max), Units.Ms(result.Slowest.ResumeTrip))
                .Add("(WebSocket open to `Resume` sent: the client sends it before the envelope; the hub runs it after)", Units.Ms(result.ClientTurn.Median), Units.Ms(result.ClientTurn.Percentile(90)), Units.Ms(result.ClientTurn.Max), Units.Ms(result.Slowest.ClientTurn))
                .Add("loss of the old connection to the new instance started", Units.Ms(result.LossToStart.Median), Units.Ms(result.LossToStart.Percentile(90)),
                    Units.Ms(result.LossToStart.Max), Units.Ms(result.Slowest.LossToStart)))
            .Line()
            .Line($"Back-off is {Units.Percent(result.BackoffShare)} of the clients' summed time from the new instance's start to their resume, and " +
                  $"{Units.Ms(result.Slowest.Backoff)} of the slowest client's {Units.Ms(result.Slowest.AfterStart)} ms. " +
                  $"`RecorderClient` retries at once, then after {string.Join(", ", RetryDelaysSeconds.Skip(1).Select(d => Units.Number(d, "0.##") + " s"))} (no jitter), " +
                  $"so a client that lost its connection at t retries at t + {string.Join(", ", Cumulative(RetryDelaysSeconds).Select(d => Units.Number(d, "0.##")))} s " +
                  "(plus each failed attempt's own time). Connect attempts per resumed client: " +
                  string.Join(", ", result.Attempts.OrderBy(a => a.Key).Select(a => $"{a.Key} attempts x {Units.Int(a.Value)}")) +
                  $"; attempts that began after the new instance started and failed: {Units.Int(result.FailedAfterStart)}; `Resume` errors: {Units.Int(result.ResumeErrors)}.")
            .Heading("State before and after")
            .Table(new MarkdownTable("", "interactions waiting", "closed", "other", "grace running (detached_since set)", "with a connection recorded", "hub_instances rows", "attached (hub's count)")
                .Add("before the restart", Units.Int(before.Waiting), Units.Int(before.Closed), Units.Int(before.Other), Units.Int(before.Detached), Units.Int(before.Attached), Units.Int(before.Instances), Units.Int(total))
                .Add("after the storm", Units.Int(after.Waiting), Units.Int(after.Closed), Units.Int(after.Other), Units.Int(after.Detached), Units.Int(after.Attached), Units.Int(after.Instances), Units.Int(attachedAfter)))
            .Line()
            .Line("Client connection states after the storm: " + string.Join(", ", states.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {Units.Int(s.Value)}")) + ".")
            .Line()
            .Line($"Open file descriptors right after the connects: hub process {Units.Int(fds.ConnectHub)}, client process {Units.Int(fds.ConnectClients)}; " +
                  $"right after the storm: {Units.Int(fds.StormHub)} and {Units.Int(fds.StormClients)} ({Units.Number((double)fds.StormHub / total, "0.0")} and " +
                  $"{Units.Number((double)fds.StormClients / total, "0.0")} per client; the limit here: {OpenFilesLimit() ?? "?"}). Each (re)connect opens two " +
                  "connections, the negotiate request's (kept alive by the client's HttpClient pool until it has been idle a minute) and the WebSocket.");
    }

    /// <summary>Milliseconds from <paramref name="origin"/> to each of <paramref name="timestamps"/>.</summary>
    private static Stats Since(long origin, IEnumerable<long> timestamps) => Stats.Of(timestamps.Select(t => Units.ElapsedMs(origin, t)));

    /// <summary>The 1-minute load average (Linux), or null.</summary>
    private static string? LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>This process's soft limit of open files (Linux: /proc/self/limits), or null.</summary>
    private static string? OpenFilesLimit()
    {
        try
        {
            return File.Exists("/proc/self/limits")
                ? File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal))
                    ?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static IEnumerable<double> Cumulative(IEnumerable<double> delays)
    {
        var sum = 0.0;
        foreach (var delay in delays)
        {
            sum += delay;
            yield return sum;
        }
    }

    /// <summary>The bare connect baseline: the child's report and this process's CPU seconds meanwhile.</summary>
    private sealed record BareConnects(ConnectReport Report, double ServerCpu, Warmed Warmed);

    /// <summary>How long the bench waited after the churn, and whether the JIT had settled by then.</summary>
    private sealed record Warmed(TimeSpan Elapsed, bool Settled)
    {
        public string Describe(int churn, TimeSpan cap) => churn == 0 ? "no churn, no wait" :
            $"{churn} clients connected and closed again, then {Units.Number(Elapsed.TotalSeconds, "0")} s until the JIT settled " +
            $"({JitSettle.Verdict(Settled, cap)})";
    }

    /// <summary>After a churn: the JIT settled (at least the minimum, at most the cap) and <paramref name="alsoDone"/> done.</summary>
    private static async Task<Warmed> SettleAsync(Settings settings, Func<Task> alsoDone, CancellationToken cancellationToken)
    {
        if (settings.Churn == 0)
        {
            return new Warmed(TimeSpan.Zero, false);
        }

        var start = Stopwatch.GetTimestamp();
        await alsoDone();
        var (_, settled) = await JitSettle.WaitAsync(settings.WarmupMin, settings.WarmupMax, null, cancellationToken);
        return new Warmed(Stopwatch.GetElapsedTime(start), settled);
    }

    /// <summary>Waits (at most 60 s) until the hub has closed the interactions the churn left behind (after its disconnect grace).</summary>
    private static async Task WaitForChurnClosedAsync(BenchDatabase database, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(60 * Stopwatch.Frequency);
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        while (await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                   "SELECT count(*) FROM interactions WHERE status = 'waiting' AND detached_since IS NOT NULL", cancellationToken: cancellationToken)) > 0)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException("the interactions of the churn were not closed within 60 s");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    /// <summary>CPU seconds of the hub's process and the clients' process in the two phases, the storm's wall time, and the load average.</summary>
    private sealed record Cpu(double ConnectHub, double ConnectClients, double StormHub, double StormClients, double StormSeconds, string? LoadAverage);

    /// <summary>Server-side timestamps: WebSocket connections ended while the old instance stopped, and upgraded by the new one until the last client resumed.</summary>
    private sealed record ServerSide(IReadOnlyList<long> Ended, IReadOnlyList<long> Opened);

    /// <summary>Open file descriptors of the hub's and the clients' process after the connects and after the storm.</summary>
    private sealed record Descriptors(int ConnectHub, int ConnectClients, int StormHub, int StormClients);

    /// <summary>The scenario's options.</summary>
    private sealed record Settings(int Clients, int Warmup, int Churn, TimeSpan WarmupMin, TimeSpan WarmupMax, int Parallelism, TimeSpan StormTimeout, TimeSpan Idle, int TimeoutSeconds, string? Details);

    /// <summary>Hub database commands while the old instance stopped, while the new one started, and from then until the last client resumed.</summary>
    private sealed record StormQueries(QuerySnapshot Stop, QuerySnapshot Start, QuerySnapshot Storm, double StormSeconds);

    /// <summary>One resumed client's times (ms) after the restart.</summary>
    private sealed record ClientTimes(double AfterStart, double Backoff, double Work, double Negotiate, double Attach, double ClientTurn, double ResumeTrip, double LossToStart, double LossToResume);

    /// <summary>The storm report set against the restart's timestamps.</summary>
    private sealed record StormResult(
        IReadOnlyList<ClientTimes> Resumed, int Failed, long LastResumed, ClientTimes Slowest, IReadOnlyDictionary<int, int> Attempts, int FailedAfterStart, int ResumeErrors)
    {
        public Stats AfterStart { get; } = Measured(Resumed, c => c.AfterStart);
        public Stats Backoff { get; } = Measured(Resumed, c => c.Backoff);
        public Stats Work { get; } = Measured(Resumed, c => c.Work);
        public Stats Negotiate { get; } = Measured(Resumed, c => c.Negotiate);
        public Stats Attach { get; } = Measured(Resumed, c => c.Attach);
        public Stats ClientTurn { get; } = Measured(Resumed, c => c.ClientTurn);
        public Stats ResumeTrip { get; } = Measured(Resumed, c => c.ResumeTrip);
        public Stats LossToStart { get; } = Measured(Resumed, c => c.LossToStart);
        public Stats LossToResume { get; } = Measured(Resumed, c => c.LossToResume);

        /// <summary>When the clients noticed the loss of their connection, ms after the old instance's stop began.</summary>
        public required Stats Lost { get; init; }

        /// <summary>The statistics of one of the times over the resumed clients that have it (a time the probe could not see is NaN).</summary>
        private static Stats Measured(IEnumerable<ClientTimes> times, Func<ClientTimes, double> time) => Stats.Of(times.Select(time).Where(t => !double.IsNaN(t)));

        /// <summary>The start of the attempt that got through: the last negotiate that began before its WebSocket opened.</summary>
        private static long SuccessfulAttempt(ClientReconnect c) =>
            c.Attempts.Where(a => a.Start <= c.SocketOpened).Select(a => a.Start).DefaultIfEmpty(c.SocketOpened).Max();

        /// <summary>Summed back-off over summed time from the new instance's start to the resume.</summary>
        public double BackoffShare => Resumed.Sum(c => Math.Max(0, c.AfterStart)) is var sum and > 0 ? Resumed.Sum(c => c.Backoff) / sum : double.NaN;

        public static StormResult Of(StormReport report, HubRestart restart)
        {
            var ready = restart.Started;
            var resumed = report.Clients.Where(c => c.Resumed != 0).ToList();
            var times = resumed.Select(c =>
            {
                // The attempt that got through is the last negotiate before its WebSocket opened.
                var attempt = SuccessfulAttempt(c);
                var from = Math.Max(ready, attempt);
                return new ClientTimes(
                    Units.ElapsedMs(ready, c.Resumed),
                    attempt > ready ? Units.ElapsedMs(ready, attempt) : 0,
                    Units.ElapsedMs(from, c.Resumed),
                    Units.ElapsedMs(attempt, c.SocketOpened),
                    c.ConnectEnvelope != 0 ? Units.ElapsedMs(c.SocketOpened, c.ConnectEnvelope) : double.NaN,
                    Units.ElapsedMs(c.SocketOpened, c.ResumeSent),
                    c.ConnectEnvelope != 0 ? Units.ElapsedMs(c.ConnectEnvelope, c.Resumed) : double.NaN,
                    c.Lost != 0 ? Units.ElapsedMs(c.Lost, ready) : double.NaN,
                    c.Lost != 0 ? Units.ElapsedMs(c.Lost, c.Resumed) : double.NaN);
            }).ToList();
            var slowest = times.Count == 0 ? new ClientTimes(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN) : times.MaxBy(t => t.AfterStart)!;
            var attempts = resumed.GroupBy(c => c.Attempts.Count(a => a.Start <= c.SocketOpened)).ToDictionary(g => g.Key, g => g.Count());
            var failedAfterStart = resumed.Sum(c => c.Attempts.Count(a => a.Start >= ready && a.Start < SuccessfulAttempt(c)));
            return new StormResult(times, report.Clients.Count - resumed.Count, resumed.Count == 0 ? ready : resumed.Max(c => c.Resumed), slowest, attempts,
                failedAfterStart, report.Clients.Sum(c => c.ResumeErrors))
            {
                Lost = Stats.Of(report.Clients.Where(c => c.Lost != 0).Select(c => Units.ElapsedMs(restart.Stopping, c.Lost))),
            };
        }
    }
}
