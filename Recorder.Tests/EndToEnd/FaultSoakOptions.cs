using System.Globalization;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// The size of a fault soak. The suite's run uses the defaults; the figures in docs/reliability.md come from the same
/// test with the environment variables below (e.g. <c>RECORDER_SOAK_RUNS=50</c>).
/// </summary>
internal sealed record FaultSoakOptions(int Runs, TimeSpan DropEvery, TimeSpan PostgresDown, TimeSpan RedisDown, TimeSpan Lease, TimeSpan PollInterval, int Seed)
{
    /// <summary>
    /// <c>RECORDER_SOAK_RUNS</c> (24): concurrent paced replays; <c>RECORDER_SOAK_DROP_SECONDS</c> (4): mean time
    /// between a client's own drops; <c>RECORDER_SOAK_PG_DOWN_SECONDS</c> (3) and <c>RECORDER_SOAK_REDIS_DOWN_SECONDS</c>
    /// (2): how long each server stays down; <c>RECORDER_SOAK_LEASE_SECONDS</c> (3) and
    /// <c>RECORDER_SOAK_POLL_SECONDS</c> (0.2): <c>Recorder:Runs:Lease</c> and <c>PollInterval</c> (the suite's; the
    /// product's defaults are 10 and 1); <c>RECORDER_SOAK_SEED</c> (random): the clients' random choices.
    /// </summary>
    public static FaultSoakOptions FromEnvironment() => new(
        Runs: (int)Number("RECORDER_SOAK_RUNS", 24),
        DropEvery: TimeSpan.FromSeconds(Number("RECORDER_SOAK_DROP_SECONDS", 4)),
        PostgresDown: TimeSpan.FromSeconds(Number("RECORDER_SOAK_PG_DOWN_SECONDS", 3)),
        RedisDown: TimeSpan.FromSeconds(Number("RECORDER_SOAK_REDIS_DOWN_SECONDS", 2)),
        Lease: TimeSpan.FromSeconds(Number("RECORDER_SOAK_LEASE_SECONDS", 3)),
        PollInterval: TimeSpan.FromSeconds(Number("RECORDER_SOAK_POLL_SECONDS", 0.2)),
        Seed: (int)Number("RECORDER_SOAK_SEED", Random.Shared.Next()));

    private static double Number(string name, double fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text
            ? double.Parse(text, CultureInfo.InvariantCulture)
            : fallback;
}
