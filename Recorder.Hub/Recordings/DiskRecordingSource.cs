using Microsoft.Extensions.Options;
using Recorder.Hub.Recordings.XAgent;

namespace Recorder.Hub.Recordings;

/// <summary>Recordings in XAgent's disk format, in folders under the configured recordings root.</summary>
public sealed class DiskRecordingSource(IOptions<RecorderOptions> options) : IRecordingSource
{
    public async Task<Recording?> TryLoadAsync(string recorderDir, string userId, CancellationToken cancellationToken)
    {
        var folder = RecorderDir.ResolveFolder(options.Value.RecordingsRoot, recorderDir);
        return folder is null
            ? null
            : XAgentReplayMapper.ToRecording(recorderDir, await XAgentDiskReader.ReadAsync(folder, cancellationToken));
    }
}
