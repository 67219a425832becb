using System.Text.Json;
using Microsoft.Extensions.Options;
using Recorder.Client.Contracts;
using Recorder.Data.Raws;
using Recorder.Data.Workspace;

namespace Recorder.Hub.Delivery;

/// <summary>
/// Turns raws into the envelopes clients receive: their data parsed once, the pictures they show (from the shared
/// <see cref="PictureCache"/>, the rest read in one query and encoded once), and a raw that cannot be turned into an
/// envelope delivered with its data replaced by the reason. <see cref="DeliveryService"/> builds its pages with it, and
/// <see cref="ReadAsync"/> serves readers outside the hub such as <c>GET /api/interactions/{id}/raws</c>.
/// </summary>
public sealed partial class RawEnvelopes(
    RawRepository raws, WorkspaceRepository workspace, PictureCache pictureCache, IOptions<DeliveryOptions> options, ILogger<RawEnvelopes> logger)
{
    /// <summary>The envelopes of at most <paramref name="limit"/> raws of one interaction after <paramref name="afterSeq"/>.</summary>
    public async Task<IReadOnlyList<RecorderEnvelope>> ReadAsync(string interactionId, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        var rows = await raws.ListAfterAsync(interactionId, afterSeq, limit, cancellationToken);
        if (rows.Count == 0)
        {
            return [];
        }

        var fileList = EnvelopeFactory.FileList((await workspace.ListNamesAsync([interactionId], cancellationToken))[interactionId]);
        var parsed = rows.Select(Parse).ToList();
        var pictures = await PicturesAsync([.. parsed.SelectMany(p => p.PictureNames).Distinct(StringComparer.Ordinal).Select(name => (interactionId, name))],
            cancellationToken);
        return [.. rows.Select((row, i) => Envelope(row, parsed[i], fileList, OwnPictures(row, parsed[i], pictures)))];
    }

    /// <summary>A raw's data and the pictures it shows, or why its data cannot be read.</summary>
    internal static ParsedRaw Parse(RawRow row)
    {
        try
        {
            var data = row.ReadData();
            return new ParsedRaw(data, RawDataProcessor.PictureNames(data, row.IncludePictures), null);
        }
        catch (JsonException exception)
        {
            return new ParsedRaw(null, [], exception.Message);
        }
    }

    /// <summary>The pictures wanted: from the cache, and the rest in one query (then encoded once and cached).</summary>
    internal async Task<IReadOnlyDictionary<(string, string), InlinePicture>> PicturesAsync(
        IReadOnlyList<(string InteractionId, string Name)> wanted, CancellationToken cancellationToken)
    {
        var found = new Dictionary<(string, string), InlinePicture>();
        var missing = new List<(string, string)>();
        foreach (var file in wanted)
        {
            if (pictureCache.TryGet(file, out var picture))
            {
                found[file] = picture;
            }
            else
            {
                missing.Add(file);
            }
        }

        foreach (var (file, content) in await workspace.ReadAsync(missing, cancellationToken))
        {
            var picture = InlinePicture.Of(content, options.Value.MaxInlinePictureBytes);
            pictureCache.Add(file, picture);
            found[file] = picture;
        }

        return found;
    }

    /// <summary>The pictures of <paramref name="pictures"/> that this raw shows, by file name.</summary>
    internal static Dictionary<string, InlinePicture> OwnPictures(RawRow row, ParsedRaw parsed, IReadOnlyDictionary<(string, string), InlinePicture> pictures) =>
        parsed.PictureNames
            .Where(name => pictures.ContainsKey((row.InteractionId, name)))
            .ToDictionary(name => name, name => pictures[(row.InteractionId, name)], StringComparer.Ordinal);

    /// <summary>A raw's envelope; a raw that cannot be turned into one is delivered with its data replaced by the reason.</summary>
    internal RecorderEnvelope Envelope(RawRow row, ParsedRaw parsed, IReadOnlyList<WorkspaceFileEntry> fileList, IReadOnlyDictionary<string, InlinePicture> own)
    {
        if (parsed.Error is { } error)
        {
            Log.EnvelopeFailed(logger, null, row.InteractionId, row.Seq);
            return EnvelopeFactory.Undeliverable(row, fileList, error);
        }

        try
        {
            return EnvelopeFactory.FromRaw(row, parsed.Data, fileList, own);
        }
        catch (Exception exception)
        {
            Log.EnvelopeFailed(logger, exception, row.InteractionId, row.Seq);
            return EnvelopeFactory.Undeliverable(row, fileList, exception.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "Raw {Seq} of {InteractionId} could not be turned into an envelope; it is delivered with the reason instead of its data")]
        public static partial void EnvelopeFailed(ILogger logger, Exception? exception, string interactionId, long seq);
    }
}
