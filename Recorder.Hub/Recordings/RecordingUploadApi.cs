using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Recorder.Data.Recordings;
using Recorder.XAgent;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;
using Recorder.XAgent.Rows;

namespace Recorder.Hub.Recordings;

/// <summary>What <c>POST /api/recordings</c> stored.</summary>
public sealed record RecordingUploaded(string RecordId, int Records, int WorkspaceFiles);

/// <summary>
/// <c>POST /api/recordings?record_id=</c>: a zipped XAgent recording folder as the body, checked like
/// <c>recordings import</c> (read and mapped for replay) and stored under <c>record_id</c>, replacing an earlier import.
/// </summary>
public static partial class RecordingUploadApi
{
    public static IHostApplicationBuilder AddRecordingUpload(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RecordingUploadOptions>().BindConfiguration(RecordingUploadOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    public static IEndpointRouteBuilder MapRecordingUpload(this IEndpointRouteBuilder app)
    {
        app.MapPost(RecordingsApi.Path, UploadAsync).RequireAuthorization()
            .Accepts<Stream>("application/zip")
            .Produces<RecordingUploaded>(StatusCodes.Status201Created)
            .Produces(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status401Unauthorized)
            .Produces(StatusCodes.Status403Forbidden).Produces(StatusCodes.Status413PayloadTooLarge);
        return app;
    }

    private static async Task<IResult> UploadAsync(
        HttpContext context,
        string? record_id,
        RunningRecordRepository records,
        IOptions<RecordingUploadOptions> options,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var user = context.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "";
        if (limits.UploaderUserIds.Length > 0 && !limits.UploaderUserIds.Contains(user, StringComparer.Ordinal))
        {
            return Error(StatusCodes.Status403Forbidden, $"user {user} may not upload recordings (Recorder:Upload:UploaderUserIds)");
        }

        if (string.IsNullOrEmpty(record_id))
        {
            return Error(StatusCodes.Status400BadRequest, "record_id is missing: POST /api/recordings?record_id=<name> with the zip as the body");
        }

        if (RecorderDir.Validate(record_id) is { } invalid)
        {
            return Error(StatusCodes.Status400BadRequest, $"record_id '{record_id}': {invalid}");
        }

        if (context.Request.ContentLength > limits.MaxUploadBytes)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, $"the body is {context.Request.ContentLength} bytes; at most {limits.MaxUploadBytes} are allowed (Recorder:Upload:MaxUploadBytes)");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limits.MaxUploadBytes + 1;
        }

        var temp = Directory.CreateTempSubdirectory("recorder-upload-");
        try
        {
            await using var body = new MemoryStream();
            try
            {
                await CopyCappedAsync(context.Request.Body, body, limits.MaxUploadBytes, cancellationToken);
            }
            catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                throw new RecordingUploadException(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {limits.MaxUploadBytes} bytes (Recorder:Upload:MaxUploadBytes)");
            }

            body.Position = 0;
            var folder = await RecordingZip.ExtractAsync(body, temp.FullName, limits, cancellationToken);
            XAgentRecording recording;
            try
            {
                recording = await XAgentDiskReader.ReadAsync(folder, cancellationToken);
                XAgentReplayMapper.Map(recording); // refuse what could not be replayed, like `recordings import`
            }
            catch (RecordingFormatException exception)
            {
                // The reader names files by their path: show them relative to the zip, not the server's temp folder.
                throw new RecordingUploadException(StatusCodes.Status400BadRequest,
                    $"the recording cannot be imported: {exception.Message.Replace(folder + Path.DirectorySeparatorChar, "", StringComparison.Ordinal).Replace(folder, ".", StringComparison.Ordinal)}");
            }

            var rows = XAgentRunningRecords.ToRows(recording);
            await records.ReplaceAsync(record_id, rows, recording.Workspace, cancellationToken);
            Log.Uploaded(loggers.CreateLogger(typeof(RecordingUploadApi)), record_id, user, rows.Count, recording.Workspace.Count);
            return Results.Created($"{RecordingsApi.Path}/{Uri.EscapeDataString(record_id)}", new RecordingUploaded(record_id, rows.Count, recording.Workspace.Count));
        }
        catch (RecordingUploadException exception)
        {
            return Error(exception.StatusCode, exception.Message);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    private static async Task CopyCappedAsync(Stream source, Stream target, long max, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
            if (total > max)
            {
                throw new RecordingUploadException(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {max} bytes (Recorder:Upload:MaxUploadBytes)");
            }

            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);

    private static partial class Log
    {
        [LoggerMessage(EventId = 7001, EventName = "RecordingUploaded", Level = LogLevel.Information, Message = "Recording {RecordId} uploaded by {UserId}: {Records} records, {Files} workspace files")]
        public static partial void Uploaded(ILogger logger, string recordId, string userId, int records, int files);
    }
}
