using Recorder.Client.Contracts;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// The fault soak's world: a PostgreSQL cluster and a Redis of its own (so that the soak may restart them without
/// touching the suite's shared servers), a database on that cluster, and the recording <see cref="Recording"/>: the
/// multi-subtask fixture with each subtask's tool calls <see cref="Repeats"/> times over, its records
/// <see cref="PacedHubServer.Gap"/> apart, so that a run is paced for about a minute. The in-process instance is a
/// hub-only one (it runs no replays); the soak starts the hub processes that do.
/// </summary>
public sealed class FaultSoakHubServer : PacedHubServer
{
    public new const string Recording = "soak_long";

    private const int Repeats = 70;

    public PostgresProcess Postgres { get; private set; } = null!;

    public RedisProcess Redis { get; private set; } = null!;

    /// <summary>The statuses every run of <see cref="Recording"/> writes, seq 1 to the end.</summary>
    public IReadOnlyList<string> Expected { get; private set; } = [];

    public override TimeSpan Gap => TimeSpan.FromMilliseconds(200);

    /// <summary>The product's default: a client cut off during a PostgreSQL outage has time to come back.</summary>
    public override TimeSpan DisconnectGrace => TimeSpan.FromSeconds(15);

    protected override string PostgresAdmin => Postgres.ConnectionString;

    /// <summary>The soak's size and timings, from the environment (read once: every instance shares them).</summary>
    internal FaultSoakOptions Options { get; } = FaultSoakOptions.FromEnvironment();

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        .. base.Settings,
        new("ConnectionStrings:Redis", Redis.ConnectionString),
        new("Recorder:Runs:MaxConcurrentRuns", "0"),
        new("Recorder:Runs:Lease", Options.Lease.ToString()),
        new("Recorder:Runs:PollInterval", Options.PollInterval.ToString()),
    ];

    public override async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout * 2);
        Postgres = await PostgresProcess.StartAsync(timeout.Token);
        Redis = await RedisProcess.StartAsync();
        await base.InitializeAsync();

        var recording = await XAgentDiskReader.ReadAsync(Path.Combine(RecordingsRoot, "multi_subtask"), timeout.Token);
        var longer = recording with
        {
            ToolCalls = [.. recording.ToolCalls.GroupBy(c => c.Current, StringComparer.Ordinal).SelectMany(subtask =>
                Enumerable.Repeat(subtask.Where(c => c.ToolName != XAgentReplayMapper.SubmitTool), Repeats).SelectMany(calls => calls)
                    .Concat(subtask.Where(c => c.ToolName == XAgentReplayMapper.SubmitTool)))],
        };
        await ImportPacedAsync(Recording, longer);
        Expected = [RecorderStatus.Running, .. XAgentReplayMapper.Map(longer).Select(s => s.Status), RecorderStatus.Finished];
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            if (Redis is not null)
            {
                await Redis.DisposeAsync();
            }

            if (Postgres is not null)
            {
                await Postgres.DisposeAsync();
            }
        }
    }
}
