using Microsoft.AspNetCore.Builder;
using Recorder.Hub;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// The hub built but not started: nothing listens and nothing connects, for tests of what its services are made of.
/// </summary>
internal static class UnstartedHub
{
    /// <summary>A connection string no PostgreSQL answers on (the services are built, never used against it).</summary>
    public const string Unreachable = "Host=127.0.0.1;Port=1;Database=none";

    public static WebApplication Build(string connectionString = Unreachable) =>
        RecorderApp.Build(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None", $"--ConnectionStrings:Recorder={connectionString}"]);
}
