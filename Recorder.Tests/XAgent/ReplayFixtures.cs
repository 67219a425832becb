using System.Globalization;
using System.Text.Json.Nodes;
using Recorder.XAgent;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;
using Recorder.XAgent.Rows;

namespace Recorder.Tests.XAgent;

/// <summary>The fixture recordings (copied to the test output) and ways to read them without the code under test.</summary>
internal static class ReplayFixtures
{
    public static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "recordings", name);

    public static Task<XAgentRecording> ReadAsync(string name) => XAgentDiskReader.ReadAsync(Folder(name), CancellationToken.None);

    public static async Task<IReadOnlyList<ReplayStep>> MapAsync(string name) => XAgentReplayMapper.Map(await ReadAsync(name));

    /// <summary>A fixture file as plain JSON.</summary>
    public static JsonNode File(string recording, string relativePath) =>
        JsonNode.Parse(System.IO.File.ReadAllText(Path.Combine(Folder(recording), relativePath)))!;

    /// <summary>The parsed function-call arguments of an LLM record of a fixture (the fixtures write plain JSON there).</summary>
    public static JsonObject LlmArguments(string recording, int number) =>
        JsonNode.Parse(File(recording, $"LLM_inout_pair/{number:00000}.json")["output"]!["choices"]![0]!["message"]!["function_call"]!["arguments"]!.GetValue<string>())!.AsObject();

    /// <summary><c>multi_subtask_rows.json</c>: the multi_subtask recording as XAgent's running_record rows.</summary>
    public static IReadOnlyList<RunningRecordRow> MultiSubtaskRows() =>
        JsonNode.Parse(System.IO.File.ReadAllText(Folder("multi_subtask_rows.json")))!.AsArray()
            .Select(r => new RunningRecordRow(
                r!["id"]!.GetValue<long>(),
                r["record_id"]!.GetValue<string>(),
                r["current"]?.GetValue<string>(),
                r["node_id"]?.GetValue<string>(),
                r["node_type"]!.GetValue<string>(),
                r["data"]?.DeepClone(),
                CreateTime(r["create_time"]!.GetValue<string>())))
            .ToList();

    public static DateTimeOffset CreateTime(string text) =>
        DateTimeOffset.ParseExact(text, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    /// <summary>A copy of a fixture in a fresh temporary folder, for tests that change it.</summary>
    public static TempFolder CopyToTemp(string name)
    {
        var temp = new TempFolder();
        Copy(Folder(name), temp.Path);
        return temp;
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            System.IO.File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var dir in Directory.GetDirectories(from))
        {
            Copy(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }
}

internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "recorder-tests-" + Guid.NewGuid().ToString("N"));

    public TempFolder() => Directory.CreateDirectory(Path);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
