using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;

namespace Recorder.Hub.Recordings;

/// <summary>
/// Recordings in XAgent's disk format, in folders under the configured recordings root. The folder is listed for
/// every run (runs that start together share a listing); it is read and parsed again only when a file was added,
/// removed, resized or rewritten since.
/// </summary>
public sealed class DiskRecordingSource(IOptions<RecorderOptions> options, RecordingCache cache) : IRecordingSource
{
    private readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlyList<(string RelativePath, FileInfo File)>>>> _listings =
        new(StringComparer.Ordinal);

    public Task<Recording?> TryLoadAsync(string recorderDir, string userId, CancellationToken cancellationToken)
    {
        var folder = RecorderDir.ResolveFolder(options.Value.RecordingsRoot, recorderDir);
        if (folder is null)
        {
            return Task.FromResult<Recording?>(null);
        }

        return LoadAsync(recorderDir, folder, cancellationToken);
    }

    private async Task<Recording?> LoadAsync(string recorderDir, string folder, CancellationToken cancellationToken)
    {
        var files = await ListAsync(folder).WaitAsync(cancellationToken);
        var version = Version(files);
        return await cache.GetOrLoadAsync($"disk:{folder}", version, files.Sum(f => f.File.Length),
            async ct => XAgentReplayMapper.ToRecording(recorderDir, await XAgentDiskReader.ReadAsync(files, ct)) with { Version = $"disk:{version}" },
            cancellationToken);
    }

    /// <summary>The folder's files, listed once for every run that asks while a listing of it is under way.</summary>
    private Task<IReadOnlyList<(string RelativePath, FileInfo File)>> ListAsync(string folder)
    {
        var fresh = new Lazy<Task<IReadOnlyList<(string RelativePath, FileInfo File)>>>(
            () => Task.Run(() => RecordingFolderWalker.ListFiles(folder), CancellationToken.None));
        var listing = _listings.GetOrAdd(folder, fresh);
        if (ReferenceEquals(listing, fresh))
        {
            _ = ForgetAsync(folder, fresh);
        }

        return listing.Value;
    }

    /// <summary>A run that asks after a listing ended lists the folder again: a file may have changed since.</summary>
    private async Task ForgetAsync(string folder, Lazy<Task<IReadOnlyList<(string RelativePath, FileInfo File)>>> listing)
    {
        await ((Task)listing.Value).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _listings.TryRemove(KeyValuePair.Create(folder, listing));
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
