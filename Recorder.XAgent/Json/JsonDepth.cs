using System.Text.Json;
using System.Text.Json.Nodes;

namespace Recorder.XAgent.Json;

/// <summary>
/// The one JSON depth limit, wherever a tree enters or leaves: recording files and rows, the arguments an LLM wrote,
/// a raw's data written to and read from jsonb (Recorder.Data's <c>JsonLimits</c> takes its number from here). The
/// invocation, its arguments and the envelope put a raw's data three levels down, and a .NET SignalR client reads no
/// deeper than System.Text.Json's default of 64 levels.
/// </summary>
public static class JsonDepth
{
    public const int MaxDepth = 60;

    /// <summary>For <see cref="JsonNode.Parse(string, JsonNodeOptions?, JsonDocumentOptions)"/> and <see cref="JsonDocument"/>.</summary>
    public static readonly JsonDocumentOptions Document = new() { MaxDepth = MaxDepth };

    /// <summary>How deep the tree nests: 0 for a value, 1 for an object or array of values, and so on.</summary>
    public static int DepthOf(JsonNode? node)
    {
        var deepest = 0;
        var pending = new Stack<(JsonNode Node, int Depth)>();
        if (node is not null)
        {
            pending.Push((node, 0));
        }

        while (pending.TryPop(out var item))
        {
            IEnumerable<JsonNode?> children = item.Node switch
            {
                JsonObject obj => obj.Select(p => p.Value),
                JsonArray array => array,
                _ => [],
            };
            if (item.Node is JsonObject or JsonArray)
            {
                deepest = Math.Max(deepest, item.Depth + 1);
            }

            foreach (var child in children)
            {
                if (child is not null)
                {
                    pending.Push((child, item.Depth + 1));
                }
            }
        }

        return deepest;
    }

    /// <summary>What a parse failure says: the limit when the tree was too deep, else where the text is not JSON.</summary>
    public static string Describe(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);

        // System.Text.Json reports the depth with this text and no error code of its own.
        return exception.Message.Contains("maximum configured depth", StringComparison.Ordinal)
            ? $"nested deeper than {MaxDepth} levels ({exception.Message})"
            : $"not valid JSON ({exception.Message})";
    }
}
