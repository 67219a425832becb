using Microsoft.Extensions.Options;
using Recorder.Data.Recordings;

namespace Recorder.Hub.Recordings;

/// <summary>One recording a client may name as <c>recorder_dir</c>.</summary>
public sealed record RecordingEntry(string RecorderDir, string Source, long? Records);

/// <summary><c>GET /api/recordings</c>: the recordings a client can replay (imported ones and folders under the root).</summary>
public static class RecordingsApi
{
    public const string Path = "/api/recordings";

    public static IEndpointRouteBuilder MapRecordingsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, ListAsync).RequireAuthorization();
        return app;
    }

    private static async Task<IResult> ListAsync(RunningRecordRepository records, IOptions<RecorderOptions> options, CancellationToken cancellationToken)
    {
        var imported = (await records.ListRecordingsAsync(cancellationToken))
            .Select(r => new RecordingEntry(r.RecordId, "imported", r.Rows));
        var root = new DirectoryInfo(options.Value.RecordingsRoot);
        var folders = root.Exists
            ? root.EnumerateDirectories()
                .Where(d => d.LinkTarget is null && File.Exists(System.IO.Path.Combine(d.FullName, "query.json")))
                .Select(d => new RecordingEntry(d.Name, "folder", null))
            : [];
        return Results.Ok(imported.Concat(folders).OrderBy(e => e.RecorderDir, StringComparer.Ordinal).ThenBy(e => e.Source, StringComparer.Ordinal));
    }
}
