namespace Recorder.Tests.Infrastructure;

/// <summary>The real services the tests talk to (started by deploy/local/test.sh).</summary>
public static class TestEnvironment
{
    public static string PostgresConnectionString =>
        Environment.GetEnvironmentVariable("RECORDER_TEST_PG")
        ?? "Host=127.0.0.1;Port=25432;Database=recorder;Username=recorder;Password=recorder";

    public static string RedisConnectionString =>
        Environment.GetEnvironmentVariable("RECORDER_TEST_REDIS") ?? "127.0.0.1:26379";

    /// <summary>The folder of the fixture recordings copied next to the test assembly.</summary>
    public static string FixtureRecordings => Path.Combine(AppContext.BaseDirectory, "Fixtures", "recordings");

    /// <summary>Timeout of every await in the tests.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
}
