using System.Text.Json;
using Recorder.Data.Json;

namespace Recorder.Data.Raws;

public sealed class RawRow
{
    /// <summary>
    /// The deepest data a raw may have to be sent as it is (<see cref="JsonLimits.MaxDepth"/>). A deeper raw is sent
    /// with its data replaced by the reason; reading it never fails the read of other raws.
    /// </summary>
    public const int MaxDataDepth = JsonLimits.MaxDepth;

    public required string InteractionId { get; init; }
    public long Seq { get; init; }
    public required string NodeId { get; init; }
    public string? Current { get; init; }

    /// <summary>The raw's data as stored (jsonb as text, null when the column is SQL NULL); see <see cref="ReadData"/>.</summary>
    public string? DataJson { get; init; }

    public required string Status { get; init; }
    public bool IncludePictures { get; init; }
    public bool IsSend { get; init; }
    public DateTime CreateTime { get; init; }

    /// <summary>
    /// The data, parsed once into an immutable element ready to send. Throws <see cref="JsonException"/> with a clear
    /// message when it is nested deeper than <see cref="MaxDataDepth"/> levels; the caller decides what the raw becomes.
    /// </summary>
    public JsonElement? ReadData()
    {
        if (DataJson is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<JsonElement>(DataJson, JsonLimits.Serializer);
        }
        catch (JsonException exception)
        {
            throw new JsonException($"its data is {JsonLimits.Describe(exception)}", exception);
        }
    }
}
