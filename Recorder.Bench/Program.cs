using System.CommandLine;
using Recorder.Bench;

// dotnet run -c Release --project Recorder.Bench -- <latency|throughput|connections|resume|storm|paced> [options]
var root = new RootCommand("Recorder end-to-end load harness: a fresh database, the hub in this process, real SignalR clients.")
{
    LatencyScenario.CreateCommand(),
    ThroughputScenario.CreateCommand(),
    ConnectionsScenario.CreateCommand(),
    ResumeScenario.CreateCommand(),
    StormScenario.CreateCommand(),
    PacedScenario.CreateCommand(),
    ControlScenario.CreateCommand(),
    IdleClients.CreateCommand(),
    PacedClients.CreateCommand(),
};
return await root.Parse(args).InvokeAsync();
