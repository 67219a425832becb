using System.CommandLine;
using System.Text.Json;

namespace Recorder.Bench;

/// <summary>
/// K idle connected clients (each with its own user and interaction, the product's default settings): what they
/// cost the hub's process in memory, how long a connect takes, and that idle connections cost the database nothing.
/// The clients run in a child process (<see cref="IdleClients"/>) so that this process's memory is the hub's.
/// </summary>
internal static class ConnectionsScenario
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

    // PostgreSQL backends report their transaction counts to pg_stat_database late (a pooled backend that sits idle
    // may hold them until it is used again); settling keeps most of the connects' transactions out of the idle window.
    private static readonly TimeSpan StatisticsFlush = TimeSpan.FromSeconds(12);

    private static readonly Option<int> ClientsOption = new("--clients")
    {
        Description = "Idle clients to connect (after the warm-up clients).",
        DefaultValueFactory = _ => 500,
    };

    private static readonly Option<int> WarmupOption = new("--warmup")
    {
        Description = "Clients connected before the memory baseline (they warm up both processes).",
        DefaultValueFactory = _ => 20,
    };

    private static readonly Option<int> ParallelismOption = new("--parallelism")
    {
        Description = "Connects in flight at once.",
        DefaultValueFactory = _ => 16,
    };

    private static readonly Option<int> IdleSecondsOption = new("--idle-seconds")
    {
        Description = "Length of each window in which database work is counted.",
        DefaultValueFactory = _ => 10,
    };

    public static Command CreateCommand()
    {
        var command = new Command("connections", "Idle connected clients: memory per connection, connect time, database work while idle.")
        {
            ClientsOption, WarmupOption, ParallelismOption, IdleSecondsOption,
        };
        BenchEnvironment.AddCommonOptions(command);
        command.SetAction((parse, ct) =>
        {
            var settings = new Settings(
                Math.Max(1, parse.GetValue(ClientsOption)),
                Math.Max(0, parse.GetValue(WarmupOption)),
                Math.Max(1, parse.GetValue(ParallelismOption)),
                TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(IdleSecondsOption))),
                parse.GetValue(BenchEnvironment.TimeoutOption));
            return ScenarioRunner.RunAsync("connections", parse, context => RunAsync(context, settings), ct);
        });
        return command;
    }

    private static async Task RunAsync(ScenarioContext context, Settings settings)
    {
        var ct = context.Cancellation;
        const string prefix = "c";
        await context.Database.SeedUsersAsync(BenchUser.Many(prefix, settings.Warmup + settings.Clients), ct);
        using var queries = new QueryCounter(context.Database.Name);
        await using var hub = await HubUnderTest.StartAsync(context.Environment, context.Database, [], context.Redis, instances: 1, ct);

        await Task.Delay(StatisticsFlush, ct);
        ScenarioRunner.Say($"connections: counting database work with no client for {settings.Idle.TotalSeconds} s");
        var idleEmpty = await MeasureIdleAsync(context.Database, queries, settings.Idle, ct);

        using var child = IdleClientsProcess.Start(hub.HubUrl(0), prefix, settings.Warmup, settings.Clients, settings.Parallelism, probe: false, settings.TimeoutSeconds);
        var step = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        await child.ExpectAsync("WARM", step, ct);
        var before = ProcessSnapshot.AfterFullCollection();
        var attachedBefore = hub.AttachedConnections;
        ScenarioRunner.Say($"connections: {attachedBefore} warm-up clients attached; connecting {settings.Clients} more");
        var queriesBeforeConnects = queries.Snapshot();
        await child.SendAsync("GO", ct);
        var connected = JsonSerializer.Deserialize<ConnectReport>(await child.ExpectAsync("CONNECTED", step, ct))
            ?? throw new InvalidOperationException("no connect report");
        var connectCommands = (double)(queries.Snapshot() - queriesBeforeConnects).Commands / connected.Connected;

        await Task.Delay(Settle, ct);
        var after = ProcessSnapshot.AfterFullCollection();
        var attachedAfter = hub.AttachedConnections;
        await Task.Delay(StatisticsFlush - Settle, ct);
        ScenarioRunner.Say($"connections: {attachedAfter} attached; counting database work for {settings.Idle.TotalSeconds} s");
        var idleFull = await MeasureIdleAsync(context.Database, queries, settings.Idle, ct);

        await child.StopAsync(step, ct);
        Write(context.Report, settings, connected, connectCommands, before, after, attachedBefore, attachedAfter, idleEmpty, idleFull);
    }

    private static void Write(Report report, Settings settings, ConnectReport connected, double connectCommands, ProcessSnapshot before, ProcessSnapshot after,
        int attachedBefore, int attachedAfter, Idle idleEmpty, Idle idleFull)
    {
        var seconds = settings.Idle.TotalSeconds;
        var added = attachedAfter - attachedBefore;
        report
            .Line($"- {settings.Clients} idle clients connected (after {settings.Warmup} warm-up clients), {settings.Parallelism} connects in flight; each client its own user and interaction (`waiting`, never started)")
            .Line("- hub: one instance in the bench process, product defaults (replay speed 0, `Recorder:Auth:CheckRunning=true`, 20 s pong); the clients run in a child process")
            .Line($"- the hub counted {attachedBefore} attached connections before and {attachedAfter} after")
            .Heading("Connect")
            .Table(new MarkdownTable("clients", "connect median ms", "p90 ms", "max ms", "connects/s", "hub database commands per connect",
                    "client process working set per connection")
                .Add(Units.Int(connected.Connected), Units.Ms(connected.MedianMs), Units.Ms(connected.P90Ms), Units.Ms(connected.MaxMs),
                    Units.Number(connected.Connected / connected.TotalSeconds), Units.Number(connectCommands, "0.0"),
                    Units.Bytes((double)(connected.WorkingSetAfter - connected.WorkingSetBefore) / connected.Connected)))
            .Line()
            .Line("A connect is `RecorderClient.ConnectAsync`: negotiate, WebSocket, authentication (user lookup), interaction insert, " +
                  "attach, the `connect` message, and the `Resume(id, 0)` round trip.")
            .Heading("Hub process memory (after a full blocking GC)")
            .Table(new MarkdownTable("", $"before ({attachedBefore} connections)", $"after ({attachedAfter} connections)", "per added connection")
                .Add("working set", Units.Bytes(before.WorkingSet), Units.Bytes(after.WorkingSet), Units.Bytes((double)(after.WorkingSet - before.WorkingSet) / added))
                .Add("GC heap (live)", Units.Bytes(before.GcHeap), Units.Bytes(after.GcHeap), Units.Bytes((double)(after.GcHeap - before.GcHeap) / added))
                .Add("GC committed", Units.Bytes(before.GcCommitted), Units.Bytes(after.GcCommitted), Units.Bytes((double)(after.GcCommitted - before.GcCommitted) / added))
                .Add("threads", Units.Int(before.Threads), Units.Int(after.Threads), Units.Number((double)(after.Threads - before.Threads) / added, "0.000")))
            .Heading($"Database work while idle ({seconds:0} s windows)")
            .Table(new MarkdownTable("clients connected", "commands sent by the hub (Npgsql)", "difference to 0 clients",
                    "transactions committed (pg_stat_database)", "database time ms", "the original design (1 DB query per connection per second)")
                .Add("0", Units.Int(idleEmpty.Queries.Commands), "-", Units.Int(idleEmpty.Transactions), Units.Ms(idleEmpty.Queries.Milliseconds), "0")
                .Add(Units.Int(attachedAfter), Units.Int(idleFull.Queries.Commands), Units.Int(idleFull.Queries.Commands - idleEmpty.Queries.Commands),
                    Units.Int(idleFull.Transactions), Units.Ms(idleFull.Queries.Milliseconds),
                    Units.Int((long)(attachedAfter * seconds)) + " queries (+ as many Redis reads)"))
            .Line()
            .Line("Each window starts 12 s after the last burst of connects. `pg_stat_database` counts reach PostgreSQL's statistics late " +
                  "(a pooled backend may hold its counts until it is used again), so that column is approximate; it is about twice the command count " +
                  "because Npgsql resets every pooled connection with `DISCARD ALL` (its own transaction) before reusing it. The Npgsql column is exact " +
                  "and covers only the hub's pool on the bench database.");
    }

    private static async Task<Idle> MeasureIdleAsync(BenchDatabase database, QueryCounter queries, TimeSpan window, CancellationToken cancellationToken)
    {
        var transactionsBefore = await database.ReadCommittedTransactionsAsync(cancellationToken);
        var queriesBefore = queries.Snapshot();
        await Task.Delay(window, cancellationToken);
        var queriesAfter = queries.Snapshot();
        var transactionsAfter = await database.ReadCommittedTransactionsAsync(cancellationToken);
        return new Idle(transactionsAfter - transactionsBefore, queriesAfter - queriesBefore);
    }

    private sealed record Settings(int Clients, int Warmup, int Parallelism, TimeSpan Idle, int TimeoutSeconds);

    private sealed record Idle(long Transactions, QuerySnapshot Queries);
}
