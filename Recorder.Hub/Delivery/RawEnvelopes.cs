using System.Text.Json;
using Microsoft.Extensions.Options;
using Recorder.Client.Contracts;
using Recorder.Data.Raws;
using Recorder.Data.Workspace;

namespace Recorder.Hub.Delivery;

/// <summary>
/// The envelopes of a page of one interaction's raws, built as <see cref="DeliveryService"/> builds them (workspace file
/// list, inlined pictures from the shared <see cref="PictureCache"/>, undeliverable raws with their reason), for readers
/// outside the hub such as <c>GET /api/interactions/{id}/raws</c>.
/// </summary>
public sealed class RawEnvelopes(RawRepository raws, WorkspaceRepository workspace, PictureCache pictureCache, IOptions<DeliveryOptions> options)
{
    public async Task<IReadOnlyList<RecorderEnvelope>> ReadAsync(string interactionId, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        var rows = await raws.ListAfterAsync(interactionId, afterSeq, limit, cancellationToken);
        if (rows.Count == 0)
        {
            return [];
        }

        var fileList = EnvelopeFactory.FileList((await workspace.ListNamesAsync([interactionId], cancellationToken))[interactionId]);
        var parsed = rows.Select(Parse).ToList();
        var wanted = parsed.SelectMany(p => p.Names).Distinct(StringComparer.Ordinal).ToList();
        var pictures = new Dictionary<string, InlinePicture>(StringComparer.Ordinal);
        var missing = new List<(string, string)>();
        foreach (var name in wanted)
        {
            if (pictureCache.TryGet((interactionId, name), out var picture))
            {
                pictures[name] = picture;
            }
            else
            {
                missing.Add((interactionId, name));
            }
        }

        foreach (var (file, content) in await workspace.ReadAsync(missing, cancellationToken))
        {
            var picture = InlinePicture.Of(content, options.Value.MaxInlinePictureBytes);
            pictureCache.Add(file, picture);
            pictures[file.Name] = picture;
        }

        return [.. rows.Select((row, i) => Envelope(row, parsed[i], fileList, pictures))];
    }

    private static (JsonElement? Data, IReadOnlyList<string> Names, string? Error) Parse(RawRow row)
    {
        try
        {
            var data = row.ReadData();
            return (data, RawDataProcessor.PictureNames(data, row.IncludePictures), null);
        }
        catch (JsonException exception)
        {
            return (null, [], exception.Message);
        }
    }

    private static RecorderEnvelope Envelope(RawRow row, (JsonElement? Data, IReadOnlyList<string> Names, string? Error) parsed,
        IReadOnlyList<WorkspaceFileEntry> fileList, Dictionary<string, InlinePicture> pictures)
    {
        if (parsed.Error is { } error)
        {
            return EnvelopeFactory.Undeliverable(row, fileList, error);
        }

        try
        {
            var own = parsed.Names.Where(pictures.ContainsKey).ToDictionary(n => n, n => pictures[n], StringComparer.Ordinal);
            return EnvelopeFactory.FromRaw(row, parsed.Data, fileList, own);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            return EnvelopeFactory.Undeliverable(row, fileList, exception.Message);
        }
    }
}
