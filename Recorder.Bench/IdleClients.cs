using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Recorder.Client;

namespace Recorder.Bench;

/// <summary>What the idle-clients process reports after its clients connected.</summary>
internal sealed record ConnectReport(int Connected, double MedianMs, double P90Ms, double MaxMs, double TotalSeconds, long WorkingSetBefore, long WorkingSetAfter);

/// <summary>
/// The client side of the connections scenario, in a process of its own so that the hub's process holds only the
/// hub: connects the warm-up clients, says <c>WARM</c>, waits for <c>GO</c> on stdin, connects the rest, says
/// <c>CONNECTED {json}</c>, keeps them all idle until <c>STOP</c> (or end of input), closes them and says <c>STOPPED</c>.
/// </summary>
internal static class IdleClients
{
    public const string CommandName = "idle-clients";

    private static readonly Option<string> HubUrlOption = new("--hub-url") { Required = true };
    private static readonly Option<string> UserPrefixOption = new("--user-prefix") { Required = true };
    private static readonly Option<int> WarmupOption = new("--warmup") { DefaultValueFactory = _ => 0 };
    private static readonly Option<int> CountOption = new("--count") { Required = true };
    private static readonly Option<int> ParallelismOption = new("--parallelism") { DefaultValueFactory = _ => 16 };
    private static readonly Option<string> RecordingOption = new("--recording") { DefaultValueFactory = _ => "multi_subtask" };

    public static Command CreateCommand()
    {
        var command = new Command(CommandName, "(internal) The idle clients of the connections scenario.")
        {
            HubUrlOption, UserPrefixOption, WarmupOption, CountOption, ParallelismOption, RecordingOption, BenchEnvironment.TimeoutOption,
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
                await Console.Error.WriteLineAsync($"idle-clients: {exception}");
                return 1;
            }
        });
        return command;
    }

    private static async Task RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var warmup = parse.GetValue(WarmupOption);
        var count = parse.GetValue(CountOption);
        var parallelism = Math.Max(1, parse.GetValue(ParallelismOption));
        var hubUrl = new Uri(parse.GetValue(HubUrlOption)!);
        var options = BenchUser.Many(parse.GetValue(UserPrefixOption)!, warmup + count).Select(user => new RecorderClientOptions
        {
            HubUrl = hubUrl,
            UserId = user.UserId,
            Token = user.Token,
            RecorderDir = parse.GetValue(RecordingOption)!,
            ConnectAttempts = 1,
        }).ToList();

        var clients = new List<RecorderClient>();
        try
        {
            var (warm, _) = await BenchClients.ConnectAsync(options[..warmup], parallelism, cancellationToken);
            clients.AddRange(warm);
            Console.WriteLine("WARM");
            await ExpectAsync("GO", cancellationToken);

            var workingSetBefore = Environment.WorkingSet;
            var start = Stopwatch.GetTimestamp();
            var (rest, times) = await BenchClients.ConnectAsync(options[warmup..], parallelism, cancellationToken);
            var total = Units.ElapsedMs(start, Stopwatch.GetTimestamp()) / 1000;
            clients.AddRange(rest);
            var stats = Stats.Of(times);
            var report = new ConnectReport(rest.Length, stats.Median, stats.Percentile(90), stats.Max, total, workingSetBefore, Environment.WorkingSet);
            Console.WriteLine("CONNECTED " + JsonSerializer.Serialize(report));
            await ExpectAsync("STOP", cancellationToken);
        }
        finally
        {
            await BenchClients.DisposeAllAsync(clients);
            Console.WriteLine("STOPPED");
        }
    }

    /// <summary>Waits for <paramref name="word"/> on stdin; the end of input means stop.</summary>
    private static async Task ExpectAsync(string word, CancellationToken cancellationToken)
    {
        var line = await Console.In.ReadLineAsync(cancellationToken).AsTask().WaitAsync(cancellationToken);
        if (line is not null && line.Trim() != word)
        {
            throw new InvalidOperationException($"expected '{word}' on stdin, got '{line}'");
        }
    }
}
