using Recorder.Data.Recordings;
using Recorder.Tests.Infrastructure;
using Recorder.XAgent;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Rows;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// A hub that replays at the original pace, with the recording <see cref="Recording"/>: the multi-subtask fixture
/// imported with its records <see cref="Gap"/> apart, so that a run lasts long enough to be interrupted.
/// </summary>
public class PacedHubServer : HubServer
{
    public const string Recording = "paced_multi";

    public virtual TimeSpan Gap => TimeSpan.FromMilliseconds(150);

    public virtual TimeSpan DisconnectGrace => TimeSpan.FromSeconds(2);

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Recorder:Replay:Speed", "1"),
        new("Recorder:Replay:MaxGap", Gap.ToString()),
        new("Recorder:Runs:DisconnectGrace", DisconnectGrace.ToString()),
    ];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var recording = await XAgentDiskReader.ReadAsync(Path.Combine(RecordingsRoot, "multi_subtask"), CancellationToken.None);
        await ImportPacedAsync(Recording, recording);
    }

    /// <summary>Imports <paramref name="recording"/> under <paramref name="name"/> with its records <see cref="Gap"/> apart.</summary>
    protected Task ImportPacedAsync(string name, XAgentRecording recording)
    {
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var rows = XAgentRunningRecords.ToRows(recording).Select((row, i) => row with { CreateTime = start + i * Gap }).ToList();
        return new RunningRecordRepository(Database.DataSource)
            .ReplaceAsync(name, rows, recording.Workspace, CancellationToken.None)
            .WaitAsync(TestEnvironment.Timeout);
    }
}

/// <summary>A slower paced hub with a short grace: a run outlives the grace by several seconds.</summary>
public sealed class GraceHubServer : PacedHubServer
{
    public override TimeSpan Gap => TimeSpan.FromMilliseconds(400);

    public override TimeSpan DisconnectGrace => TimeSpan.FromSeconds(2);
}
