using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Recorder.XAgent.Replay;

namespace Recorder.Hub.Recordings;

/// <summary>
/// Recordings already read and parsed, shared by the runs that replay them: a crowd replaying one recording reads it
/// once. An entry is keyed by where the recording comes from and by its version (what its source says about its files
/// or rows: a changed file or a re-import is a new version, read afresh). Entries are sized by the recording's bytes
/// and bounded by <see cref="RecorderOptions.RecordingCacheMegabytes"/>; a failed read is not kept.
/// A cached <see cref="Recording"/> is read by many runs at once and must never be changed.
/// </summary>
public sealed class RecordingCache : IDisposable
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(10);
    private readonly MemoryCache? _cache;
    private readonly long _limit;

    public RecordingCache(IOptions<RecorderOptions> options)
    {
        _limit = options.Value.RecordingCacheMegabytes * 1024L * 1024;
        _cache = _limit > 0 ? new MemoryCache(new MemoryCacheOptions { SizeLimit = _limit }) : null;
    }

    /// <summary>
    /// The recording <paramref name="source"/> names at <paramref name="version"/>: from the cache, or read by
    /// <paramref name="load"/> (once, for every run asking at the same time) and kept when it fits.
    /// </summary>
    public Task<Recording> GetOrLoadAsync(
        string source, string version, long bytes, Func<CancellationToken, Task<Recording>> load, CancellationToken cancellationToken)
    {
        if (_cache is null || bytes > _limit)
        {
            return load(cancellationToken);
        }

        var key = (source, version);
        if (!_cache.TryGetValue(key, out Lazy<Task<Recording>>? entry) || entry is null)
        {
            // A read shared by several runs is not cancelled with the first of them; each run stops waiting on its own token.
            entry = new Lazy<Task<Recording>>(() => load(CancellationToken.None));
            _cache.Set(key, entry, new MemoryCacheEntryOptions { Size = Math.Max(1, bytes), SlidingExpiration = Idle });
            _ = Forget(key, entry);
        }

        return entry.Value.WaitAsync(cancellationToken);
    }

    /// <summary>Drops a read that failed, so that the next run tries again.</summary>
    private async Task Forget((string, string) key, Lazy<Task<Recording>> entry)
    {
        try
        {
            await entry.Value;
        }
        catch (Exception)
        {
            var cache = _cache!;
            if (cache.TryGetValue(key, out Lazy<Task<Recording>>? current) && ReferenceEquals(current, entry))
            {
                cache.Remove(key);
            }
        }
    }

    public void Dispose() => _cache?.Dispose();
}
