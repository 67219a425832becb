using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Recorder.Hub.Delivery;

/// <summary>
/// Workspace files that raws inline as pictures, encoded once and kept between passes: the pages of a long catch-up (and the raws of
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

    public bool TryGet((string InteractionId, string Name) file, [NotNullWhen(true)] out InlinePicture? picture)
    {
        picture = null;
        return _cache is not null && _cache.TryGetValue(file, out picture) && picture is not null;
    }

    /// <summary>Caches the picture, sized by its base64 text (two bytes a character).</summary>
    public void Add((string InteractionId, string Name) file, InlinePicture picture) =>
        _cache?.Set(file, picture, new MemoryCacheEntryOptions { Size = Math.Max(64, 2 * picture.InlinedBytes), SlidingExpiration = Idle });

    public void Dispose() => _cache?.Dispose();
}
