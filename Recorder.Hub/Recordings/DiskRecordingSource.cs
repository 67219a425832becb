using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Recorder.Hub.Recordings.XAgent;

namespace Recorder.Hub.Recordings;

/// <summary>
/// Recordings in XAgent's disk format, in folders under the configured recordings root. The folder is listed for
/// every run; it is read and parsed again only when a file was added, removed, resized or rewritten since.
/// </summary>
public sealed class DiskRecordingSource(IOptions<RecorderOptions> options, RecordingCache cache) : IRecordingSource
{
    public Task<Recording?> TryLoadAsync(string recorderDir, string userId, CancellationToken cancellationToken)
    {
        var folder = RecorderDir.ResolveFolder(options.Value.RecordingsRoot, recorderDir);
        if (folder is null)
        {
            return Task.FromResult<Recording?>(null);
        }

        var files = RecordingFolderWalker.ListFiles(folder);
        return LoadAsync(recorderDir, folder, files, cancellationToken);
    }

    private async Task<Recording?> LoadAsync(
        string recorderDir, string folder, IReadOnlyList<(string RelativePath, FileInfo File)> files, CancellationToken cancellationToken)
    {
        var version = Version(files);
        return await cache.GetOrLoadAsync($"disk:{folder}", version, files.Sum(f => f.File.Length),
            async ct => XAgentReplayMapper.ToRecording(recorderDir, await XAgentDiskReader.ReadAsync(files, ct)) with { Version = $"disk:{version}" },
            cancellationToken);
    }

    /// <summary>What the listing says about the files: each one's path, size and last write time.</summary>
    private static string Version(IReadOnlyList<(string RelativePath, FileInfo File)> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (relative, file) in files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{relative}\n{file.Length}\n{file.LastWriteTimeUtc.Ticks}\n")));
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
