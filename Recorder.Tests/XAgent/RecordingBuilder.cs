using System.Text.Json.Nodes;
using Recorder.XAgent;

namespace Recorder.Tests.XAgent;

/// <summary>Builds small XAgent recordings in memory for the mapper's edge cases.</summary>
internal sealed class RecordingBuilder
{
    private readonly List<XAgentLlmCall> _llm = [];
    private readonly List<XAgentToolCall> _tools = [];
    private readonly List<XAgentPlanRefine> _refines = [];
    private int _n;

    public RecordingBuilder Llm(string functionName, string arguments, string? current = null)
    {
        var output = new JsonObject
        {
            ["choices"] = new JsonArray(new JsonObject
            {
                ["message"] = new JsonObject { ["function_call"] = new JsonObject { ["name"] = functionName, ["arguments"] = arguments } },
            }),
        };
        _llm.Add(new XAgentLlmCall(new JsonObject(), output, _llm.Count, current, Next($"LLM_inout_pair/{_llm.Count:00000}.json")));
        return this;
    }

    public RecordingBuilder Tool(string current, string name, JsonNode? input = null, JsonNode? output = null)
    {
        var thought = new JsonObject
        {
            ["thought"] = new JsonObject { ["properties"] = new JsonObject { ["thought"] = $"use {name}", ["plan"] = new JsonArray("a", "b") } },
            ["content"] = "",
        };
        var index = _tools.Count(t => t.Current == current);
        _tools.Add(new XAgentToolCall(current, name, input ?? new JsonObject(), output ?? "ok", "TOOL_CALL_SUCCESS", thought, Next($"{current}/tool_{index:00000}.json")));
        return this;
    }

    public RecordingBuilder Submit(string current, string conclusion = "done", params string[] milestones) =>
        Tool(current, "subtask_submit", new JsonObject
        {
            ["result"] = new JsonObject { ["conclusion"] = conclusion, ["milestones"] = new JsonArray([.. milestones.Select(m => (JsonNode)m)]), ["success"] = true },
            ["submit_type"] = "give_answer",
        });

    public RecordingBuilder Refine(string current, JsonNode planAfter)
    {
        var index = _refines.Count(r => r.Current == current);
        _refines.Add(new XAgentPlanRefine(current, "subtask_operations", new JsonObject(), "{}", planAfter, Next($"{current}/plan_refine_{index:00000}.json")));
        return this;
    }

    public XAgentRecording Build() => new(
        new XAgentQuery("Tester", "test the mapper", new JsonArray(), new XAgentOrigin("query.json", At(0))),
        null, _llm, [], _tools, _refines, []);

    private XAgentOrigin Next(string source) => new(source, At(++_n));

    private static DateTimeOffset At(int second) => new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(second);
}
