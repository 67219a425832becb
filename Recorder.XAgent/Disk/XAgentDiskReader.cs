using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Recorder.XAgent.Json;

namespace Recorder.XAgent.Disk;

/// <summary>
/// Reads XAgent's disk format: <c>query.json</c>, optional <c>config.yml</c>, <c>LLM_inout_pair/NNNNN.json</c>,
/// <c>tool_server_pair/NNNNN.json</c>, one folder per subtask id holding <c>tool_NNNNN.json</c> and
/// <c>plan_refine_NNNNN.json</c>, and <c>workspace/**</c>. Hidden files and other top-level entries are ignored.
/// </summary>
public static partial class XAgentDiskReader
{
    /// <summary>The largest file a recording may hold; a run reads its recording into memory.</summary>
    public const long MaxFileBytes = 64L * 1024 * 1024;

    /// <summary>The largest recording, all files together.</summary>
    public const long MaxRecordingBytes = 256L * 1024 * 1024;

    public static Task<XAgentRecording> ReadAsync(string folder, CancellationToken ct) =>
        ReadAsync(RecordingFolderWalker.ListFiles(folder), ct);

    /// <summary>Reads the files a <see cref="RecordingFolderWalker"/> listed.</summary>
    public static Task<XAgentRecording> ReadAsync(IReadOnlyList<(string RelativePath, FileInfo File)> files, CancellationToken ct) =>
        ReadAsync(files, progress: null, ct);

    /// <summary>
    /// Reads the files a <see cref="RecordingFolderWalker"/> listed, reporting to <paramref name="progress"/> (on the
    /// reading thread) before each file and once when all are read.
    /// </summary>
    public static async Task<XAgentRecording> ReadAsync(
        IReadOnlyList<(string RelativePath, FileInfo File)> files, IProgress<XAgentReadProgress>? progress, CancellationToken ct)
    {
        var total = 0L;
        foreach (var (relative, file) in files)
        {
            if (file.Length > MaxFileBytes)
            {
                throw new RecordingFormatException($"{relative}: larger than {MaxFileBytes / (1024 * 1024)} MB; refused");
            }

            total += file.Length;
        }

        if (total > MaxRecordingBytes)
        {
            throw new RecordingFormatException($"the recording holds more than {MaxRecordingBytes / (1024 * 1024)} MB; refused");
        }

        XAgentQuery? query = null;
        XAgentConfig? config = null;
        var llm = new List<(string Number, XAgentLlmCall Call)>();
        var toolServer = new List<(string Number, XAgentToolServerCall Call)>();
        var tools = new List<(string Subtask, string Number, XAgentToolCall Call)>();
        var refines = new List<(string Subtask, string Number, XAgentPlanRefine Refine)>();
        var workspace = new List<WorkspaceFile>();

        var (read, readBytes) = (0, 0L);
        foreach (var (relative, file) in files)
        {
            ct.ThrowIfCancellationRequested();
            progress?.Report(new XAgentReadProgress(read, files.Count, readBytes, total));
            (read, readBytes) = (read + 1, readBytes + file.Length);
            if (relative.Split('/').Any(segment => segment.StartsWith('.')))
            {
                continue;
            }

            var origin = new XAgentOrigin(relative, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero));
            if (relative == "query.json")
            {
                query = XAgentRecordParser.Query(await ReadJsonAsync(file, origin, ct), origin);
            }
            else if (relative == "config.yml")
            {
                config = new XAgentConfig(await ReadFileAsync(file, origin, File.ReadAllTextAsync, "", ct), origin);
            }
            else if (relative.StartsWith("workspace/", StringComparison.Ordinal))
            {
                workspace.Add(new WorkspaceFile(relative["workspace/".Length..], await ReadFileAsync(file, origin, File.ReadAllBytesAsync, [], ct)));
            }
            else if (Match(NumberedFile(), relative, "LLM_inout_pair/") is { } llmNumber)
            {
                llm.Add((llmNumber, XAgentRecordParser.LlmCall(await ReadJsonAsync(file, origin, ct), null, origin)));
            }
            else if (Match(NumberedFile(), relative, "tool_server_pair/") is { } serverNumber)
            {
                toolServer.Add((serverNumber, XAgentRecordParser.ToolServerCall(await ReadJsonAsync(file, origin, ct), origin)));
            }
            else if (SubtaskFile().Match(relative) is { Success: true } m)
            {
                var (subtask, kind, number) = (m.Groups["subtask"].Value, m.Groups["kind"].Value, m.Groups["number"].Value);
                var data = await ReadJsonAsync(file, origin, ct);
                if (kind == "tool_")
                {
                    tools.Add((subtask, number, XAgentRecordParser.ToolCall(data, subtask, origin)));
                }
                else
                {
                    refines.Add((subtask, number, XAgentRecordParser.PlanRefine(data, subtask, origin)));
                }
            }
            else if (IsRecordFolder(relative))
            {
                throw new RecordingFormatException($"{relative}: unexpected file in a recording folder");
            }
        }

        progress?.Report(new XAgentReadProgress(read, files.Count, readBytes, total));
        return new XAgentRecording(
            query ?? throw new RecordingFormatException("query.json: missing"),
            config,
            llm.OrderBy(x => x.Number, SubtaskIdOrder.Numbers).Select(x => x.Call).ToList(),
            toolServer.OrderBy(x => x.Number, SubtaskIdOrder.Numbers).Select(x => x.Call).ToList(),
            tools.OrderBy(x => x.Subtask, SubtaskIdOrder.SubtaskIds).ThenBy(x => x.Number, SubtaskIdOrder.Numbers).Select(x => x.Call).ToList(),
            refines.OrderBy(x => x.Subtask, SubtaskIdOrder.SubtaskIds).ThenBy(x => x.Number, SubtaskIdOrder.Numbers).Select(x => x.Refine).ToList(),
            workspace.OrderBy(f => f.Name, StringComparer.Ordinal).ToList());
    }

    private static string? Match(Regex numbered, string relative, string folder) =>
        relative.StartsWith(folder, StringComparison.Ordinal) && numbered.Match(relative[folder.Length..]) is { Success: true } m
            ? m.Groups["number"].Value
            : null;

    /// <summary>A file in LLM_inout_pair/, tool_server_pair/ or a subtask folder that is not a record is an error, not noise.</summary>
    private static bool IsRecordFolder(string relative)
    {
        var slash = relative.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return false;
        }

        var top = relative[..slash];
        return top is "LLM_inout_pair" or "tool_server_pair" || SubtaskIdOrder.IsSubtaskId(top);
    }

    private static async Task<JsonNode?> ReadJsonAsync(FileInfo file, XAgentOrigin origin, CancellationToken ct)
    {
        if (file.Length == 0)
        {
            // Never opened: a named pipe (or another special file) reports size 0, and opening it would wait forever.
            throw XAgentRecordParser.Error(origin, "is empty (or not a regular file): not valid JSON");
        }

        try
        {
            await using var stream = file.OpenRead();
            return await JsonNode.ParseAsync(stream, documentOptions: JsonDepth.Document, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            throw XAgentRecordParser.Error(origin, JsonDepth.Describe(e), e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw XAgentRecordParser.Error(origin, $"cannot be read ({IoProblem.Describe(e)})", e);
        }
    }

    /// <summary>A file's content; one of size 0 is <paramref name="empty"/>, never opened (a named pipe reports size 0 and would block).</summary>
    private static async Task<T> ReadFileAsync<T>(FileInfo file, XAgentOrigin origin, Func<string, CancellationToken, Task<T>> read, T empty, CancellationToken ct)
    {
        if (file.Length == 0)
        {
            return empty;
        }

        try
        {
            return await read(file.FullName, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw XAgentRecordParser.Error(origin, $"cannot be read ({IoProblem.Describe(e)})", e);
        }
    }

    [GeneratedRegex(@"^(?<number>[0-9]+)\.json$")]
    private static partial Regex NumberedFile();

    [GeneratedRegex(@"^(?<subtask>[0-9]+(?:\.[0-9]+)*)/(?<kind>tool_|plan_refine_)(?<number>[0-9]+)\.json$")]
    private static partial Regex SubtaskFile();
}
