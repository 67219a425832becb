using System.CommandLine;
using System.Diagnostics;

namespace Recorder.Bench;

/// <summary>What a scenario gets: the services, its own fresh database, the report to fill, and the one deadline.</summary>
internal sealed record ScenarioContext(BenchEnvironment Environment, BenchDatabase Database, Report Report, bool Redis, CancellationToken Cancellation);

/// <summary>Runs a scenario: deadline, fresh database (always dropped), the report to stdout, progress to stderr.</summary>
internal static class ScenarioRunner
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static async Task<int> RunAsync(string scenario, ParseResult parse, Func<ScenarioContext, Task> body, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(parse.GetValue(BenchEnvironment.TimeoutOption)));
        var ct = deadline.Token;
        try
        {
            var environment = BenchEnvironment.From(parse);
            var report = new Report(scenario, Environment.GetCommandLineArgs().Skip(1).ToList());
            Say($"creating a fresh database on {environment.PostgresConnectionString.Split(';').FirstOrDefault(p => p.StartsWith("Host", StringComparison.OrdinalIgnoreCase))}");
            await using (var database = await BenchDatabase.CreateAsync(environment.PostgresConnectionString, ct))
            {
                Say($"database {database.Name} created and migrated");
                report.PostgresVersion = await database.ReadServerVersionAsync(ct);
                await body(new ScenarioContext(environment, database, report, parse.GetValue(BenchEnvironment.RedisOption), ct));
                Say($"dropping {database.Name}");
            }

            Console.WriteLine(report);
            return 0;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync(cancellationToken.IsCancellationRequested
                ? "bench: cancelled"
                : $"bench: {scenario} did not finish within --timeout {parse.GetValue(BenchEnvironment.TimeoutOption)} s");
            return 2;
        }
        catch (Exception exception)
        {
            await Console.Error.WriteLineAsync($"bench: {scenario} failed: {exception}");
            return 1;
        }
    }

    /// <summary>A progress line on stderr (stdout is the report).</summary>
    public static void Say(string text) =>
        Console.Error.WriteLine($"[{Clock.Elapsed.TotalSeconds,7:0.0}s] {text}");
}
