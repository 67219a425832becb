using Recorder.XAgent.Replay;

namespace Recorder.Hub.Recordings;

/// <summary>
/// Finds the recording a <c>recorder_dir</c> names by asking the sources in this order, the first that knows it
/// winning: <c>running_record</c> rows imported under that record_id, then a folder of that name under the recordings
/// root, then one of the user's own past interactions with that id. The order is set here and nowhere else.
/// </summary>
public sealed class RecordingResolver
{
    private readonly IRecordingSource[] _sources;

    public RecordingResolver(RunningRecordSource rows, DiskRecordingSource folders, PastInteractionSource pastInteractions) =>
        _sources = [rows, folders, pastInteractions];

    public async Task<Recording> LoadAsync(string recorderDir, string userId, CancellationToken cancellationToken)
    {
        var error = RecorderDir.Validate(recorderDir);
        if (error is not null)
        {
            throw new RecorderDirException(error);
        }

        foreach (var source in _sources)
        {
            var recording = await source.TryLoadAsync(recorderDir, userId, cancellationToken);
            if (recording is not null)
            {
                return recording;
            }
        }

        throw new RecordingNotFoundException(
            $"recording '{recorderDir}' was not found: no imported recording, no folder under the recordings root and no past interaction of yours has that name.");
    }
}
