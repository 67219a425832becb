using System.Text.Json;
using System.Text.Json.Nodes;
using Recorder.XAgent.Json;

namespace Recorder.XAgent;

/// <summary>Turns the JSON data of one record (file or row, same shapes) into the model; shared by both readers.</summary>
internal static class XAgentRecordParser
{
    public static XAgentQuery Query(JsonNode? data, XAgentOrigin origin)
    {
        var obj = RequireObject(data, origin, "query");
        var task = obj["task"] is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw Error(origin, "query has no string \"task\"");
        return new XAgentQuery(OptionalString(obj, "role_name", origin) ?? "", task, obj["plan"]?.DeepClone(), origin);
    }

    public static XAgentLlmCall LlmCall(JsonNode? data, string? current, XAgentOrigin origin)
    {
        var obj = RequireObject(data, origin, "LLM input/output pair");
        long? id = obj["llm_interface_id"] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;
        return new XAgentLlmCall(obj["input"]?.DeepClone(), obj["output"]?.DeepClone(), id, current, origin);
    }

    public static XAgentToolServerCall ToolServerCall(JsonNode? data, XAgentOrigin origin)
    {
        var obj = RequireObject(data, origin, "tool server pair");
        return new XAgentToolServerCall(
            OptionalString(obj, "url", origin), obj["payload"]?.DeepClone(), obj["response_status_code"]?.DeepClone(), obj["tool_output"]?.DeepClone(), origin);
    }

    public static XAgentToolCall ToolCall(JsonNode? data, string current, XAgentOrigin origin)
    {
        var obj = RequireObject(data, origin, "tool call");
        var name = OptionalString(obj, "tool_name", origin) ?? throw Error(origin, "tool call has no \"tool_name\"");
        var thought = obj["thought"] switch
        {
            null => null,
            JsonObject t => (JsonObject)t.DeepClone(),
            _ => throw Error(origin, "tool call \"thought\" is not a JSON object"),
        };
        return new XAgentToolCall(
            current, name, obj["tool_input"]?.DeepClone(), obj["tool_output"]?.DeepClone(), obj["tool_status_code"]?.DeepClone(), thought, origin);
    }

    public static XAgentPlanRefine PlanRefine(JsonNode? data, string current, XAgentOrigin origin)
    {
        var obj = RequireObject(data, origin, "plan refine");
        return new XAgentPlanRefine(
            current,
            OptionalString(obj, "refine_function_name", origin),
            obj["refine_function_input"]?.DeepClone(),
            obj["refine_function_output"]?.DeepClone(),
            obj["plan_after"]?.DeepClone(),
            origin);
    }

    public static RecordingFormatException Error(XAgentOrigin origin, string problem, Exception? inner = null) =>
        new($"{origin.Source}: {problem}", inner);

    private static JsonObject RequireObject(JsonNode? data, XAgentOrigin origin, string what) =>
        Unwrap(data) as JsonObject ?? throw Error(origin, $"{what} data is not a JSON object");

    /// <summary>A JSON object stored as a JSON string (double-encoded, as some XAgent databases hold it) is read as the object.</summary>
    private static JsonNode? Unwrap(JsonNode? data)
    {
        if (data is JsonValue value && value.TryGetValue<string>(out var text) && text.TrimStart().StartsWith('{'))
        {
            try
            {
                return JsonNode.Parse(text, documentOptions: JsonDepth.Document);
            }
            catch (JsonException)
            {
                return data;
            }
        }

        return data;
    }

    private static string? OptionalString(JsonObject obj, string key, XAgentOrigin origin) => obj[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw Error(origin, $"\"{key}\" is not a string"),
    };
}
