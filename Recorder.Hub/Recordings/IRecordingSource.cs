using Recorder.XAgent.Replay;

namespace Recorder.Hub.Recordings;

/// <summary>One place recordings come from.</summary>
public interface IRecordingSource
{
    /// <summary>The recording <paramref name="recorderDir"/> names for <paramref name="userId"/>, or null when this source has none.</summary>
    Task<Recording?> TryLoadAsync(string recorderDir, string userId, CancellationToken cancellationToken);
}
