namespace Recorder.Hub.Recordings;

/// <summary>Asks the sources in order: <c>running_record</c> rows, a folder under the recordings root, a past interaction.</summary>
public sealed class RecordingResolver(IEnumerable<IRecordingSource> sources)
{
    public async Task<Recording> LoadAsync(string recorderDir, string userId, CancellationToken cancellationToken)
    {
        var error = RecorderDir.Validate(recorderDir);
        if (error is not null)
        {
            throw new RecorderDirException(error);
        }

        foreach (var source in sources)
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
