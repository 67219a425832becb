using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Encodings.Web;
using System.Text.Json.Nodes;

namespace Recorder.Hub.Delivery;

/// <summary>
/// What the original's <c>handle_data</c> does to a raw's data before sending it, done right: pictures of a
/// <c>PythonNotebook_execute_cell</c> output are inlined as base64 (one too large to inline gets <c>file_data</c>
/// null and <c>file_data_omitted</c> saying why), and string <c>tool_input</c>/<c>tool_output</c>
/// have their escape sequences turned into characters while non-ASCII text stays intact.
/// </summary>
public static class RawDataProcessor
{
    private const string NotebookTool = Recorder.XAgent.Replay.XAgentReplayMapper.NotebookTool;

    /// <summary>
    /// The workspace files <see cref="Process(JsonNode?, bool, IReadOnlyDictionary{string, InlinePicture})"/> will want for this data: the <c>file_name</c>s of a notebook call's
    /// output items, when <paramref name="includePictures"/>. Only plain relative names are listed (no rooted path,
    /// no <c>..</c>, no backslash); any other name gets <c>file_data</c> null.
    /// </summary>
    public static IReadOnlyList<string> PictureNames(JsonNode? data, bool includePictures)
    {
        try
        {
            return includePictures && NotebookOutputs(data) is { } outputs
                ? outputs.OfType<JsonObject>().Select(FileName).OfType<string>().Where(IsPlainRelative).Distinct(StringComparer.Ordinal).ToList()
                : [];
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
        {
            return [];
        }
    }

    /// <summary>Whether <see cref="Process(JsonElement?, bool, IReadOnlyDictionary{string, InlinePicture})"/> changes anything: the data has a <c>using_tools</c> object.</summary>
    private static bool HasTools(JsonElement? data) =>
        data is { ValueKind: JsonValueKind.Object } obj && obj.TryGetProperty("using_tools", out var tools) && tools.ValueKind == JsonValueKind.Object;

    /// <summary><see cref="PictureNames(JsonNode?, bool)"/> of a raw's stored data.</summary>
    public static IReadOnlyList<string> PictureNames(JsonElement? data, bool includePictures) =>
        includePictures && HasTools(data) ? PictureNames(JsonObject.Create(data!.Value), includePictures) : [];

    /// <summary>
    /// A raw's stored data as it is sent: the same element when there is nothing to inline or unescape (no copy, no
    /// second parse), otherwise <see cref="Process(JsonNode?, bool, IReadOnlyDictionary{string, InlinePicture})"/>'s result.
    /// </summary>
    public static JsonElement? Process(JsonElement? data, bool includePictures, IReadOnlyDictionary<string, InlinePicture> pictures) =>
        HasTools(data)
            ? Process(JsonObject.Create(data!.Value), includePictures, pictures) is { } processed ? JsonSerializer.SerializeToElement(processed, SendOptions) : null
            : data;

    /// <summary>
    /// Escapes as the wire does (<see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>): with the default encoder
    /// every '+' of a base64 picture would be stored escaped, and writing the envelope would then unescape and
    /// re-escape megabytes of text, renting buffers six times its size.
    /// </summary>
    private static readonly JsonSerializerOptions SendOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// <paramref name="data"/> processed: a processed deep copy when it has a <c>using_tools</c> object (on any error an
    /// unprocessed copy), otherwise <paramref name="data"/> itself, which nothing here changes. Never throws.
    /// </summary>
    public static JsonNode? Process(JsonNode? data, bool includePictures, IReadOnlyDictionary<string, InlinePicture> pictures)
    {
        ArgumentNullException.ThrowIfNull(pictures);
        if (data is not JsonObject { } top || !top.TryGetPropertyValue("using_tools", out var found) || found is not JsonObject)
        {
            // Nothing to inline or unescape: no copy (a node parsed from the row stays backed by its JSON, cheap to write).
            return data;
        }

        try
        {
            var copy = data.DeepClone();
            if (copy is JsonObject { } obj && obj["using_tools"] is JsonObject tools)
            {
                if (includePictures && NotebookOutputs(copy) is { } outputs)
                {
                    InlinePictures(tools, outputs, pictures);
                }

                UnescapeString(tools, "tool_input");
                UnescapeString(tools, "tool_output");
            }

            return copy;
        }
        catch (Exception)
        {
            // by contract: a raw whose data cannot be processed is sent as it is
            return data.DeepClone();
        }
    }

    /// <summary>
    /// Turns escape sequences into the characters they stand for, as Python's <c>unicode_escape</c> does
    /// (<c>\n \t \r \\ \" \' \a \b \f \v</c>, octal <c>\0</c>..<c>\777</c>, <c>\xHH</c>, <c>\uXXXX</c> incl.
    /// surrogate pairs, <c>\UXXXXXXXX</c>, backslash-newline removed), but keeps every other character as it is.
    /// A sequence that is not valid (bad hex, a lone surrogate, an unknown letter) stays as written.
    /// </summary>
    public static string Unescape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains('\\', StringComparison.Ordinal))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c != '\\' || i + 1 >= text.Length)
            {
                sb.Append(c);
                i++;
                continue;
            }

            var e = text[i + 1];
            var simple = e switch
            {
                'n' => "\n", 't' => "\t", 'r' => "\r", '\\' => "\\", '"' => "\"", '\'' => "'",
                'a' => "\a", 'b' => "\b", 'f' => "\f", 'v' => "\v", '\n' => "",
                _ => null,
            };
            if (simple is not null)
            {
                sb.Append(simple);
                i += 2;
            }
            else if (e is >= '0' and <= '7')
            {
                var end = i + 1;
                while (end < text.Length && end < i + 4 && text[end] is >= '0' and <= '7')
                {
                    end++;
                }

                sb.Append((char)Convert.ToInt32(text[(i + 1)..end], 8));
                i = end;
            }
            else if (e is 'x' or 'u' or 'U' && Code(text, i, e) is { } code)
            {
                sb.Append(code.Text);
                i += code.Length;
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }

        return sb.ToString();
    }

    /// <summary>The text of a <c>\x</c>, <c>\u</c> (joining a surrogate pair) or <c>\U</c> escape at <paramref name="at"/> and its length, or null when it is not valid.</summary>
    private static (string Text, int Length)? Code(string text, int at, char kind)
    {
        var digits = kind switch { 'x' => 2, 'u' => 4, _ => 8 };
        if (Hex(text, at + 2, digits) is not { } value)
        {
            return null;
        }

        if (kind == 'u' && char.IsHighSurrogate((char)value))
        {
            return at + 12 <= text.Length && text[at + 6] == '\\' && text[at + 7] == 'u' &&
                   Hex(text, at + 8, 4) is { } low && char.IsLowSurrogate((char)low)
                ? (new string([(char)value, (char)low]), 12)
                : null;
        }

        if (value is >= 0xD800 and <= 0xDFFF or > 0x10FFFF)
        {
            return null;
        }

        return (char.ConvertFromUtf32(value), 2 + digits);
    }

    private static int? Hex(string text, int start, int digits) =>
        start + digits <= text.Length &&
        int.TryParse(text.AsSpan(start, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    /// <summary>The output items of a notebook call: its <c>tool_output</c> list, or the list a JSON string holds (which then replaces the string).</summary>
    private static JsonArray? NotebookOutputs(JsonNode? data)
    {
        if (data is not JsonObject obj || obj["using_tools"] is not JsonObject tools ||
            tools["tool_name"] is not JsonValue name || !name.TryGetValue<string>(out var toolName) || toolName != NotebookTool)
        {
            return null;
        }

        return tools["tool_output"] switch
        {
            JsonArray list => list,
            JsonValue v when v.TryGetValue<string>(out var text) && text.TrimStart().StartsWith('[') => ParseList(text),
            _ => null,
        };
    }

    private static JsonArray? ParseList(string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonArray;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void InlinePictures(JsonObject tools, JsonArray outputs, IReadOnlyDictionary<string, InlinePicture> pictures)
    {
        var found = false;
        foreach (var item in outputs.OfType<JsonObject>().Where(o => o.ContainsKey("file_name")))
        {
            var name = FileName(item);
            var picture = name is not null && IsPlainRelative(name) && pictures.TryGetValue(name, out var known) ? known : null;
            item["file_data"] = picture?.Base64;
            if (picture?.Omitted is { } omitted)
            {
                item["file_data_omitted"] = omitted;
            }

            found = true;
        }

        if (found)
        {
            if (outputs.Parent is null)
            {
                tools["tool_output"] = outputs; // the list came from a JSON string
            }

            tools["is_include_pictures"] = true;
        }
    }

    private static void UnescapeString(JsonObject tools, string key)
    {
        if (tools[key] is JsonValue value && value.TryGetValue<string>(out var text))
        {
            tools[key] = Unescape(text);
        }
    }

    private static string? FileName(JsonObject item) =>
        item["file_name"] is JsonValue v && v.TryGetValue<string>(out var name) && name.Length > 0 ? name : null;

    private static bool IsPlainRelative(string name) =>
        !Path.IsPathRooted(name) && !name.Contains('\\', StringComparison.Ordinal) && !name.Split('/').Contains("..");
}
