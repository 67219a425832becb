using System.Text.Json;

namespace Recorder.Data.Raws;

public sealed class RawRow
{
    /// <summary>
    /// The deepest data a raw may have to be sent as it is: the invocation, its arguments and the envelope put the data
    /// three levels down, and a .NET SignalR client reads no deeper than System.Text.Json's default of 64 levels.
    /// A deeper raw is sent with its data replaced by the reason; reading it never fails the read of other raws.
    /// </summary>
    public const int MaxDataDepth = 60;

    private static readonly JsonSerializerOptions DataOptions = new() { MaxDepth = MaxDataDepth };

    public required string InteractionId { get; init; }
    public long Seq { get; init; }
    public required string NodeId { get; init; }
    public string? Current { get; init; }
    public int Step { get; init; }

    /// <summary>The raw's data as stored (jsonb as text, null when the column is SQL NULL); see <see cref="ReadData"/>.</summary>
    public string? DataJson { get; init; }

    public required string Status { get; init; }
    public bool IsHuman { get; init; }
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
            return JsonSerializer.Deserialize<JsonElement>(DataJson, DataOptions);
        }
        catch (JsonException exception)
        {
            throw new JsonException($"its data is nested deeper than {MaxDataDepth} levels or is not valid JSON ({exception.Message})", exception);
        }
    }
}
