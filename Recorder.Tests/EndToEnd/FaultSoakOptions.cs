using System.Globalization;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// The size of a fault soak. The suite's run uses the defaults; the figures in docs/reliability.md come from the same
/// test with the environment variables below (e.g. <c>RECORDER_SOAK_RUNS=50</c>).
/// </summary>
internal sealed record FaultSoakOptions(int Runs, TimeSpan DropEvery, TimeSpan PostgresDown, TimeSpan RedisDown, int Seed)
{
    /// <summary>
    /// <c>RECORDER_SOAK_RUNS</c> (24): concurrent paced replays; <c>RECORDER_SOAK_DROP_SECONDS</c> (4): mean time
    /// between a client's own drops; <c>RECORDER_SOAK_PG_DOWN_SECONDS</c> (3) and <c>RECORDER_SOAK_REDIS_DOWN_SECONDS</c>
    /// (2): how long each server stays down; <c>RECORDER_SOAK_SEED</c> (random): the clients' random choices.
    /// </summary>
    public static FaultSoakOptions FromEnvironment() => new(
        Runs: (int)Number("RECORDER_SOAK_RUNS", 24),
        DropEvery: TimeSpan.FromSeconds(Number("RECORDER_SOAK_DROP_SECONDS", 4)),
        PostgresDown: TimeSpan.FromSeconds(Number("RECORDER_SOAK_PG_DOWN_SECONDS", 3)),
        RedisDown: TimeSpan.FromSeconds(Number("RECORDER_SOAK_REDIS_DOWN_SECONDS", 2)),
        Seed: (int)Number("RECORDER_SOAK_SEED", Random.Shared.Next()));

    private static double Number(string name, double fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text
            ? double.Parse(text, CultureInfo.InvariantCulture)
            : fallback;
}
