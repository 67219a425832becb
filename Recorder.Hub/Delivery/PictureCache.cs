using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Recorder.Hub.Delivery;

/// <summary>
/// Workspace files that raws inline as pictures, kept between passes: the pages of a long catch-up (and the raws of
/// many connections) that show the same picture read it from PostgreSQL once. An interaction's workspace is complete
/// before its first raw and never changes after, so an entry never goes stale; entries are sized by their bytes and
/// bounded by <see cref="DeliveryOptions.PictureCacheMegabytes"/>.
/// </summary>
public sealed class PictureCache : IDisposable
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(5);
    private readonly MemoryCache? _cache;

    public PictureCache(IOptions<DeliveryOptions> options)
    {
        var limit = options.Value.PictureCacheMegabytes * 1024L * 1024;
        _cache = limit > 0 ? new MemoryCache(new MemoryCacheOptions { SizeLimit = limit }) : null;
    }

    public bool TryGet((string InteractionId, string Name) file, out byte[] content)
    {
        content = [];
        return _cache is not null && _cache.TryGetValue(file, out byte[]? found) && (content = found!) is not null;
    }

    public void Add((string InteractionId, string Name) file, byte[] content) =>
        _cache?.Set(file, content, new MemoryCacheEntryOptions { Size = Math.Max(1, content.Length), SlidingExpiration = Idle });

    public void Dispose() => _cache?.Dispose();
}
