using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Data.Raws;

namespace Recorder.Bench;

/// <summary>One replay as its client saw it; times are <see cref="DateTime.UtcNow"/> ticks, <c>Received[i]</c> is seq <c>i + 1</c>.</summary>
internal sealed record PacedRun(
    int Index,
    string InteractionId,
    long ArrivalTicks,
    long ConnectedTicks,
    long StartCalledTicks,
    IReadOnlyList<long> Received,
    string? Status,
    string? Error);

/// <summary>A <c>raw_committed</c> notification's entry as the bench's own listener received it: raws up to <paramref name="LastSeq"/> are committed.</summary>
internal sealed record CommitNotice(string InteractionId, long LastSeq, long ReceivedTicks);

/// <summary>A reading of PostgreSQL's <c>clock_timestamp()</c> between two readings of this process's <see cref="DateTime.UtcNow"/> (ticks).</summary>
internal sealed record ClockCheck(long BeforeTicks, long DatabaseTicks, long AfterTicks)
{
    /// <summary>Database clock minus the midpoint of the local readings, ms (uncertain by half the round trip).</summary>
    public double OffsetMs => (DatabaseTicks - (BeforeTicks + AfterTicks) / 2.0) / TimeSpan.TicksPerMillisecond;

    public double RoundTripMs => (double)(AfterTicks - BeforeTicks) / TimeSpan.TicksPerMillisecond;
}

/// <summary>What the paced-clients process writes to its output file.</summary>
internal sealed record PacedClientsOutput(
    IReadOnlyList<PacedRun> Runs,
    IReadOnlyList<PacedRun> WarmupRuns,
    IReadOnlyList<CommitNotice> Notices,
    IReadOnlyList<ClockCheck> ClockChecks,
    double CpuMs,
    double WallMs,
    double WallClockMinusStopwatchMs);

/// <summary>
/// The client side of the paced scenario, in a process of its own so that the hub's process holds only the hub.
/// Listens for <c>raw_committed</c> itself (a dedicated thread, so that a notification is stamped when it arrives),
/// runs the warm-up replays, says <c>READY</c>, waits for <c>GO</c> on stdin, then lets its clients arrive evenly
/// spread over the arrival window; each connects (<see cref="RecorderClient"/>), starts its replay and reads it to its
/// terminal raw, stamping every raw with <see cref="DateTime.UtcNow"/> when <see cref="RecorderClient.ReadMessagesAsync"/>
/// hands it out. Writes <see cref="PacedClientsOutput"/> as JSON to <c>--out</c> and says <c>DONE</c>.
/// The bench database's connection string comes in <see cref="DatabaseVariable"/>.
/// </summary>
internal static class PacedClients
{
    public const string CommandName = "paced-clients";

    public const string DatabaseVariable = "RECORDER_BENCH_DATABASE";

    private const string ClockSql = "SELECT clock_timestamp()";

    private static readonly TimeSpan ListenerPoll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ListenerStop = TimeSpan.FromSeconds(10);

    private static readonly Option<string> HubUrlOption = new("--hub-url") { Required = true };
    private static readonly Option<string> UserPrefixOption = new("--user-prefix") { Required = true };
    private static readonly Option<int> CountOption = new("--count") { Required = true };
    private static readonly Option<double> ArrivalOption = new("--arrival-s") { DefaultValueFactory = _ => 20 };
    private static readonly Option<string> RecordingOption = new("--recording") { Required = true };
    private static readonly Option<string> WarmupPrefixOption = new("--warmup-prefix") { DefaultValueFactory = _ => "pw" };
    private static readonly Option<int> WarmupOption = new("--warmup") { DefaultValueFactory = _ => 0 };
    private static readonly Option<string> WarmupRecordingOption = new("--warmup-recording") { DefaultValueFactory = _ => "" };
    private static readonly Option<double> RunTimeoutOption = new("--run-timeout-s") { Required = true };
    private static readonly Option<string> OutOption = new("--out") { Required = true };

    public static Command CreateCommand()
    {
        var command = new Command(CommandName, "(internal) The clients of the paced scenario.")
        {
            HubUrlOption, UserPrefixOption, CountOption, ArrivalOption, RecordingOption, WarmupPrefixOption, WarmupOption,
            WarmupRecordingOption, RunTimeoutOption, OutOption, BenchEnvironment.TimeoutOption,
        };
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TimeSpan.FromSeconds(parse.GetValue(BenchEnvironment.TimeoutOption)));
            try
            {
                await RunAsync(parse, deadline.Token);
                return 0;
            }
            catch (Exception exception)
            {
                await Console.Error.WriteLineAsync($"paced-clients: {exception}");
                return 1;
            }
        });
        return command;
    }

    private static async Task RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var database = Environment.GetEnvironmentVariable(DatabaseVariable)
            ?? throw new InvalidOperationException($"{DatabaseVariable} is not set");
        var hubUrl = new Uri(parse.GetValue(HubUrlOption)!);
        var runTimeout = TimeSpan.FromSeconds(parse.GetValue(RunTimeoutOption));
        var measured = Options(hubUrl, parse.GetValue(UserPrefixOption)!, parse.GetValue(CountOption), parse.GetValue(RecordingOption)!);
        var warmup = Options(hubUrl, parse.GetValue(WarmupPrefixOption)!, parse.GetValue(WarmupOption), parse.GetValue(WarmupRecordingOption)!);
        var arrival = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(ArrivalOption)));

        await using var dataSource = NpgsqlDataSource.Create(database);
        using var stopListening = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var notices = new ConcurrentQueue<CommitNotice>();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var listen = new NpgsqlCommand($"LISTEN {RawRepository.CommittedChannel}", connection))
        {
            await listen.ExecuteNonQueryAsync(cancellationToken);
        }

        connection.Notification += (_, e) => OnNotification(e.Payload, notices);
        var listener = Task.Factory.StartNew(() => Listen(connection, stopListening.Token), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            var clocks = new List<ClockCheck> { await CheckClockAsync(dataSource, cancellationToken) };

            // The warm-up replays run back to back in small batches, unmeasured, round after round until the bench says WARM
            // (the hub's JIT has settled); the last round's are kept.
            var warm = Task.Run(() => ExpectAsync("WARM", cancellationToken), cancellationToken); // Console.In reads synchronously
            var warmupRuns = new List<PacedRun>();
            var rounds = 0;
            while (warmup.Count > 0 && (rounds == 0 || !warm.IsCompleted))
            {
                warmupRuns.Clear();
                foreach (var batch in warmup.Chunk(8))
                {
                    var start = DateTime.UtcNow;
                    warmupRuns.AddRange(await Task.WhenAll(batch.Select((o, i) => ReplayAsync(i, o, start, runTimeout, cancellationToken))).WaitAsync(cancellationToken));
                }

                rounds++;
            }

            await warm;
            Console.WriteLine($"READY {rounds}");
            await ExpectAsync("GO", cancellationToken);

            var cpuBefore = ProcessCpu();
            var wallStart = DateTime.UtcNow;
            var stopwatchStart = Stopwatch.GetTimestamp();
            var spacing = measured.Count > 1 ? arrival / (measured.Count - 1) : TimeSpan.Zero;
            var runs = await Task.WhenAll(measured.Select((o, i) => ReplayAsync(i, o, wallStart + i * spacing, runTimeout, cancellationToken)))
                .WaitAsync(cancellationToken);
            var wallMs = (DateTime.UtcNow - wallStart).TotalMilliseconds;
            var stopwatchMs = Units.ElapsedMs(stopwatchStart, Stopwatch.GetTimestamp());
            var cpuMs = (ProcessCpu() - cpuBefore).TotalMilliseconds;
            clocks.Add(await CheckClockAsync(dataSource, cancellationToken));

            // Notifications of the last commits reach this listener about when they reach the hub: let it catch up.
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            await stopListening.CancelAsync();
            await listener.WaitAsync(ListenerStop, cancellationToken);

            var output = new PacedClientsOutput(runs, warmupRuns, [.. notices], clocks, cpuMs, wallMs, wallMs - stopwatchMs);
            await using (var file = File.Create(parse.GetValue(OutOption)!))
            {
                await JsonSerializer.SerializeAsync(file, output, cancellationToken: cancellationToken);
            }

            Console.WriteLine($"DONE {runs.Count(r => r.Error is null)} {runs.Length}");
        }
        finally
        {
            await stopListening.CancelAsync();
            await listener.WaitAsync(ListenerStop, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static TimeSpan ProcessCpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static List<RecorderClientOptions> Options(Uri hubUrl, string prefix, int count, string recording) =>
        [.. BenchUser.Many(prefix, count).Select(user => new RecorderClientOptions
        {
            HubUrl = hubUrl,
            UserId = user.UserId,
            Token = user.Token,
            RecorderDir = recording,
            ConnectAttempts = 1,
        })];

    /// <summary>
    /// The listener's own thread: a synchronous wait raises <see cref="NpgsqlConnection.Notification"/> on this thread
    /// as soon as the notification is read, independent of how busy the thread pool is.
    /// </summary>
    private static void Listen(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            connection.Wait(ListenerPoll);
        }
    }

    /// <summary><c>interaction_id:last_seq,...</c>, stamped first.</summary>
    private static void OnNotification(string payload, ConcurrentQueue<CommitNotice> notices)
    {
        var now = DateTime.UtcNow.Ticks;
        foreach (var pair in payload.Split(','))
        {
            var colon = pair.LastIndexOf(':');
            if (colon > 0 && long.TryParse(pair.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var lastSeq))
            {
                notices.Enqueue(new CommitNotice(pair[..colon], lastSeq, now));
            }
        }
    }

    private static async Task<ClockCheck> CheckClockAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ClockSql);
        await command.ExecuteScalarAsync(cancellationToken); // the connection is open and the statement warm
        var before = DateTime.UtcNow.Ticks;
        var database = (DateTime)(await command.ExecuteScalarAsync(cancellationToken))!;
        var after = DateTime.UtcNow.Ticks;
        return new ClockCheck(before, database.ToUniversalTime().Ticks, after);
    }

    /// <summary>One client: arrives at <paramref name="arrival"/>, connects, starts the replay, reads it to its terminal raw.</summary>
    private static async Task<PacedRun> ReplayAsync(int index, RecorderClientOptions options, DateTime arrival, TimeSpan runTimeout, CancellationToken cancellationToken)
    {
        var wait = arrival - DateTime.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }

        var arrived = DateTime.UtcNow.Ticks;
        var received = new List<long>();
        long connected = 0, startCalled = 0;
        RecorderEnvelope? last = null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(runTimeout);
        var ct = deadline.Token;
        RecorderClient? client = null;
        try
        {
            client = await RecorderClient.ConnectAsync(options, ct);
            connected = DateTime.UtcNow.Ticks;
            startCalled = DateTime.UtcNow.Ticks;
            await client.StartRecorderAsync(ct);
            await foreach (var message in client.ReadMessagesAsync(ct))
            {
                var now = DateTime.UtcNow.Ticks;
                if (message.Seq != received.Count + 1)
                {
                    throw new InvalidOperationException($"got seq {message.Seq}, expected {received.Count + 1}");
                }

                received.Add(now);
                last = message;
            }

            return new PacedRun(index, client.InteractionId, arrived, connected, startCalled, received, last?.Status,
                last?.Status == RecorderStatus.Finished ? null : $"the run ended with '{last?.Status}' ({last?.Message}), not finished");
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            var what = exception is OperationCanceledException ? $"not finished within {runTimeout.TotalSeconds:0} s" : exception.Message;
            return new PacedRun(index, client?.InteractionId ?? "", arrived, connected, startCalled, received, last?.Status, what);
        }
        finally
        {
            if (client is not null)
            {
                await BenchClients.DisposeAllAsync([client]);
            }
        }
    }

    /// <summary>Waits for <paramref name="word"/> on stdin; the end of input means stop.</summary>
    private static async Task ExpectAsync(string word, CancellationToken cancellationToken)
    {
        var line = await Console.In.ReadLineAsync(cancellationToken).AsTask().WaitAsync(cancellationToken)
            ?? throw new OperationCanceledException("stdin closed");
        if (line.Trim() != word)
        {
            throw new InvalidOperationException($"expected '{word}' on stdin, got '{line}'");
        }
    }
}
