using System.CommandLine;
using Recorder.Bench;

// dotnet run -c Release --project Recorder.Bench -- <latency|throughput|connections|resume|storm> [options]
var root = new RootCommand("Recorder end-to-end load harness: a fresh database, the hub in this process, real SignalR clients.")
{
    LatencyScenario.CreateCommand(),
    ThroughputScenario.CreateCommand(),
    ConnectionsScenario.CreateCommand(),
    ResumeScenario.CreateCommand(),
    StormScenario.CreateCommand(),
    IdleClients.CreateCommand(),
};
return await root.Parse(args).InvokeAsync();
