using Recorder.Data.Recordings;
using Recorder.Hub.Recordings.XAgent;

namespace Recorder.Hub.Recordings;

/// <summary>Recordings imported into <c>running_record</c> (XAgent's database format), named by their record_id.</summary>
public sealed class RunningRecordSource(RunningRecordRepository records) : IRecordingSource
{
    public async Task<Recording?> TryLoadAsync(string recorderDir, string userId, CancellationToken cancellationToken)
    {
        var rows = await records.ListAsync(recorderDir, cancellationToken);
        if (rows.Count == 0)
        {
            return null;
        }

        var files = await records.ListFilesAsync(recorderDir, cancellationToken);
        var recording = XAgentReplayMapper.ToRecording(recorderDir, XAgentRowReader.Read(rows));
        return recording with { Workspace = [.. files.Select(f => new WorkspaceFile(f.Name, f.Content))] };
    }
}
