using System.Text.Json.Nodes;
using Recorder.XAgent.Json;

namespace Recorder.XAgent.Replay;

/// <summary>The function call of an LLM response, its JSON-text arguments parsed leniently (<see cref="Error"/> when they cannot be).</summary>
internal sealed record XAgentFunctionCall(string? Name, JsonObject? Arguments, string? Error, XAgentOrigin Origin);

/// <summary>Finds what the replay needs among the LLM records: the initial plan and each subtask's posterior knowledge.</summary>
internal static class XAgentLlmRecords
{
    public const string SplitFunction = "subtask_split_operation";
    public const string PosteriorFunction = "generate_posterior_knowledge";

    /// <summary>
    /// The subtasks of the initial plan: the first response (outside any subtask) whose arguments hold <c>subtasks</c>
    /// and no refine <c>operation</c>. A split call whose arguments cannot be read is an error unless a later one
    /// (XAgent's repair retry) holds the plan. Null when the recording has no plan.
    /// </summary>
    public static (JsonArray Subtasks, XAgentOrigin Origin)? InitialPlan(IEnumerable<XAgentLlmCall> calls)
    {
        XAgentFunctionCall? unreadable = null;
        foreach (var call in calls.Where(c => c.Current is null).Select(FunctionCall).OfType<XAgentFunctionCall>())
        {
            if (call.Arguments is { } args && args["subtasks"] is JsonArray subtasks && !args.ContainsKey("operation"))
            {
                return (subtasks, call.Origin);
            }

            if (call.Error is not null && call.Name == SplitFunction)
            {
                unreadable ??= call;
            }
        }

        return unreadable is null
            ? null
            : throw XAgentRecordParser.Error(unreadable.Origin, $"arguments of the {SplitFunction} call cannot be parsed ({unreadable.Error})");
    }

    /// <summary>
    /// The posterior-knowledge arguments (<c>summary</c>, <c>reflection_of_plan</c>, <c>reflection_of_tool</c>) of each
    /// executed subtask: matched by the record's subtask id when it has one (rows), else the n-th such call belongs to
    /// the n-th subtask. Older XAgent names the call <c>generate_posterior_knowledge</c>, 1.0 calls it <c>reasoning</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, XAgentFunctionCall> Posteriors(IEnumerable<XAgentLlmCall> calls, IReadOnlyList<string> subtasks)
    {
        var byCurrent = new Dictionary<string, XAgentFunctionCall>();
        var inOrder = new List<XAgentFunctionCall>();
        foreach (var record in calls)
        {
            if (FunctionCall(record) is not { } call)
            {
                continue;
            }

            if (call.Error is not null && call.Name == PosteriorFunction)
            {
                throw XAgentRecordParser.Error(call.Origin, $"arguments of the {PosteriorFunction} call cannot be parsed ({call.Error})");
            }

            if (!IsPosterior(call))
            {
                continue;
            }

            if (record.Current is null)
            {
                inOrder.Add(call);
            }
            else
            {
                byCurrent[record.Current] = call;
            }
        }

        var result = new Dictionary<string, XAgentFunctionCall>();
        for (var i = 0; i < subtasks.Count; i++)
        {
            if (byCurrent.TryGetValue(subtasks[i], out var call) || (i < inOrder.Count && (call = inOrder[i]) is not null))
            {
                result[subtasks[i]] = call;
            }
        }

        return result;
    }

    public static XAgentFunctionCall? FunctionCall(XAgentLlmCall call)
    {
        var message = Field(At(Field(call.Output, "choices"), 0), "message");
        if (Field(message, "function_call") is not JsonObject functionCall)
        {
            return null;
        }

        var name = functionCall["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : null;
        return functionCall["arguments"] switch
        {
            JsonObject args => new XAgentFunctionCall(name, args, null, call.Origin),
            JsonValue v when v.TryGetValue<string>(out var text) => Parse(name, text, call.Origin),
            _ => new XAgentFunctionCall(name, null, "arguments are neither JSON text nor an object", call.Origin),
        };
    }

    private static XAgentFunctionCall Parse(string? name, string text, XAgentOrigin origin)
    {
        if (!LenientJson.TryParse(text, out var value, out var error))
        {
            return new XAgentFunctionCall(name, null, error, origin);
        }

        return value is JsonObject args
            ? new XAgentFunctionCall(name, args, null, origin)
            : new XAgentFunctionCall(name, null, "arguments are not a JSON object", origin);
    }

    private static bool IsPosterior(XAgentFunctionCall call) =>
        call.Name == PosteriorFunction ||
        (call.Arguments is { } args && args["summary"] is JsonValue &&
         (args.ContainsKey("reflection_of_plan") || args.ContainsKey("reflection_of_tool") || call.Name == "reasoning"));

    private static JsonNode? Field(JsonNode? node, string key) => node is JsonObject obj ? obj[key] : null;

    private static JsonNode? At(JsonNode? node, int index) => node is JsonArray array && array.Count > index ? array[index] : null;
}
