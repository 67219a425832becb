using System.Text.Json;
using System.Text.Json.Nodes;
using Recorder.XAgent.Json;

namespace Recorder.Data.Json;

/// <summary>
/// The JSON depth limit (<see cref="JsonDepth.MaxDepth"/>, the one number that recordings, LLM arguments and raws
/// share) applied to jsonb: a raw's data written to and read from PostgreSQL, and <c>running_record</c> data.
/// </summary>
public static class JsonLimits
{
    public const int MaxDepth = JsonDepth.MaxDepth;

    /// <summary>For reading and writing with the serializer (<see cref="JsonNode.ToJsonString"/> included).</summary>
    public static readonly JsonSerializerOptions Serializer = new() { MaxDepth = MaxDepth };

    /// <summary>Parses jsonb or file text within the limit; a deeper tree throws <see cref="JsonException"/> saying so.</summary>
    public static JsonNode? ParseNode(string text)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: JsonDepth.Document);
        }
        catch (JsonException exception)
        {
            throw new JsonException(Describe(exception), exception);
        }
    }

    /// <inheritdoc cref="JsonDepth.Describe"/>
    public static string Describe(JsonException exception) => JsonDepth.Describe(exception);
}
