using System.Text.Json;
using Recorder.Data.Recordings;
using Recorder.XAgent;
using Recorder.XAgent.Replay;
using Recorder.XAgent.Rows;

namespace Recorder.Hub.Recordings;

/// <summary>
/// Recordings imported into <c>running_record</c> (XAgent's database format), named by their record_id. Every run
/// asks for the import's version (one small query); the rows are read and parsed again only after a re-import.
/// </summary>
public sealed class RunningRecordSource(RunningRecordRepository records, RecordingCache cache) : IRecordingSource
{
    public async Task<Recording?> TryLoadAsync(string recorderDir, string userId, CancellationToken cancellationToken)
    {
        var version = await records.FindVersionAsync(recorderDir, cancellationToken);
        return version is null
            ? null
            : await cache.GetOrLoadAsync($"rows:{recorderDir}", version.Stamp, version.Bytes,
                async ct => await LoadAsync(recorderDir, ct) with { Version = $"rows:{version.Stamp}" }, cancellationToken);
    }

    private async Task<Recording> LoadAsync(string recorderDir, CancellationToken cancellationToken)
    {
        IReadOnlyList<RunningRecordRow> rows;
        try
        {
            rows = await records.ListAsync(recorderDir, cancellationToken);
        }
        catch (JsonException exception)
        {
            throw new RecordingFormatException(exception.Message, exception);
        }

        if (rows.Count == 0)
        {
            throw new RecordingNotFoundException($"recording '{recorderDir}' was removed while it was being read; try again.");
        }

        var files = await records.ListFilesAsync(recorderDir, cancellationToken);
        var recording = XAgentReplayMapper.ToRecording(recorderDir, XAgentRowReader.Read(rows));
        return recording with { Workspace = files };
    }
}
