using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Data.Recordings;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Rows;

namespace Recorder.Bench;

/// <summary>
/// How fast playback control takes effect (issue 11): a paced replay runs; a second connection of the same user (on the
/// last hub instance, so with <c>--instances 2 --redis</c> the control comes from the instance that does not run the
/// replay) calls <c>Pause</c>, <c>SetSpeed</c> and <c>Play</c>; timed from each call to the control envelope at the
/// client that started the run, and checked: no raw is committed between the <c>paused</c> envelope and <c>Play</c>.
/// </summary>
internal static class ControlScenario
{
    private static readonly Option<int> RoundsOption = new("--rounds")
    {
        Description = "Replays, each paused, sped up and played once (after one warm-up replay).",
        DefaultValueFactory = _ => 20,
    };

    private static readonly Option<int> InstancesOption = new("--instances")
    {
        Description = "Hub instances; the controlling connection is on the last one (more than one needs --redis).",
        DefaultValueFactory = _ => 1,
    };

    private const string Recording = "control_paced";

    private static readonly TimeSpan PauseHeld = TimeSpan.FromMilliseconds(600);

    public static Command CreateCommand()
    {
        var command = new Command("control", "Pause, SetSpeed and Play of a paced replay: call to control envelope, and a pause that holds.")
        {
            RoundsOption, InstancesOption,
        };
        BenchEnvironment.AddCommonOptions(command);
        command.SetAction((parse, ct) =>
        {
            var rounds = Math.Max(1, parse.GetValue(RoundsOption));
            var instances = Math.Max(1, parse.GetValue(InstancesOption));
            return ScenarioRunner.RunAsync("control", parse, context => RunAsync(context, rounds, instances), ct);
        });
        return command;
    }

    private static async Task RunAsync(ScenarioContext context, int rounds, int instances)
    {
        var ct = context.Cancellation;
        var users = BenchUser.Many("c", rounds + 1);
        await context.Database.SeedUsersAsync(users, ct);

        // multi_subtask with its records 250 ms apart (the fixture's own are not), imported as running_record rows.
        var recording = await XAgentDiskReader.ReadAsync(Path.Combine(context.Environment.RecordingsRoot, "multi_subtask"), ct);
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        await new RunningRecordRepository(context.Database.DataSource).ReplaceAsync(Recording,
            [.. XAgentRunningRecords.ToRows(recording).Select((row, i) => row with { CreateTime = start + i * TimeSpan.FromMilliseconds(250) })],
            recording.Workspace, ct);
        await using var hub = await HubUnderTest.StartAsync(context.Environment, context.Database,
            [new("Recorder:Replay:Speed", "1"), new("Recorder:Replay:MaxGap", "00:00:00.250"), new("Recorder:Replay:MaxSpeed", "8")],
            context.Redis, instances, ct);

        var results = new List<RoundResult>();
        for (var r = 0; r <= rounds; r++)
        {
            var result = await RoundAsync(hub, users[r], instances - 1, ct);
            ScenarioRunner.Say($"control: round {r}{(r == 0 ? " (warm-up)" : "")}: pause {Units.Ms(result.PauseMs)} ms, speed {Units.Ms(result.SpeedMs)} ms, play {Units.Ms(result.PlayMs)} ms, {result.RawsWhilePaused} raws while paused");
            if (r > 0)
            {
                results.Add(result);
            }
        }

        var table = new MarkdownTable("control", "rounds", "call to envelope median ms", "p90 ms", "max ms");
        foreach (var (name, pick) in new (string, Func<RoundResult, double>)[]
                 { ("Pause -> paused", r => r.PauseMs), ("SetSpeed(4) while paused -> paused at 4", r => r.SpeedMs), ("Play -> playing at 4", r => r.PlayMs) })
        {
            var stats = Stats.Of(results.Select(pick));
            table.Add(name, Units.Int(stats.Count), Units.Ms(stats.Median), Units.Ms(stats.Percentile(90)), Units.Ms(stats.Max));
        }

        context.Report
            .Line($"- {rounds} replays of `multi_subtask` imported with its records 250 ms apart, at speed 1, after one warm-up; each: the run's own client " +
                  $"starts it and reads it; a second connection of the same user (`client_id` = the interaction) on instance {instances - 1} of {instances} " +
                  $"calls `Pause` once seq 3 arrived, `SetSpeed(4)` {Units.Ms(PauseHeld.TotalMilliseconds)} ms later, then `Play`; the run then ends at 4x")
            .Line("- timed: from the call to the control envelope (`PlaybackChanged`) at the run's own client, `Stopwatch`, one process")
            .Table(table)
            .Line($"Raws committed between the `paused` envelope and `Play` (must be 0): {results.Sum(r => r.RawsWhilePaused)} in all.");
    }

    private static async Task<RoundResult> RoundAsync(HubUnderTest hub, BenchUser user, int controlInstance, CancellationToken cancellationToken)
    {
        await using var client = await RecorderClient.ConnectAsync(hub.ClientOptions(user, Recording, 0), cancellationToken);
        var controls = new BlockingCollection<(RecorderEnvelope Envelope, long At)>();
        client.PlaybackChanged += envelope => controls.Add((envelope, Stopwatch.GetTimestamp()));
        var raws = new ConcurrentQueue<(long Seq, long At)>();
        var third = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = Task.Run(async () =>
        {
            await foreach (var message in client.ReadMessagesAsync(cancellationToken))
            {
                raws.Enqueue((message.Seq, Stopwatch.GetTimestamp()));
                if (message.Seq >= 3)
                {
                    third.TrySetResult();
                }
            }
        }, cancellationToken);

        await using var controller = await RecorderClient.ConnectAsync(
            hub.ClientOptions(user, Recording, controlInstance) with { ClientId = client.InteractionId }, cancellationToken);
        await client.StartRecorderAsync(cancellationToken);
        await third.Task.WaitAsync(cancellationToken);

        var pauseMs = await TimeAsync(() => controller.PauseAsync(cancellationToken), controls, RecorderStatus.Paused, cancellationToken);
        var pausedAt = Stopwatch.GetTimestamp();
        await Task.Delay(PauseHeld, cancellationToken); // the span the pause is watched for, not a wait for a condition
        var speedMs = await TimeAsync(() => controller.SetSpeedAsync(4, cancellationToken), controls, RecorderStatus.Paused, cancellationToken);
        var rawsWhilePaused = raws.Count(r => r.At > pausedAt);
        var playMs = await TimeAsync(() => controller.PlayAsync(cancellationToken), controls, RecorderStatus.Playing, cancellationToken);
        await reading.WaitAsync(cancellationToken);
        return new RoundResult(pauseMs, speedMs, playMs, rawsWhilePaused);
    }

    /// <summary>Calls <paramref name="call"/> and waits for the next control envelope of <paramref name="status"/>.</summary>
    private static async Task<double> TimeAsync(Func<Task> call, BlockingCollection<(RecorderEnvelope Envelope, long At)> controls, string status, CancellationToken cancellationToken)
    {
        while (controls.TryTake(out _))
        {
        }

        var start = Stopwatch.GetTimestamp();
        await call();
        return await Task.Run(() =>
        {
            while (true)
            {
                var (envelope, at) = controls.Take(cancellationToken);
                if (envelope.Status == status)
                {
                    return Units.ElapsedMs(start, at);
                }
            }
        }, cancellationToken);
    }

    private sealed record RoundResult(double PauseMs, double SpeedMs, double PlayMs, int RawsWhilePaused);
}
