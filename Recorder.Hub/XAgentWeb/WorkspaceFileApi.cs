using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Recorder.Data.Interactions;
using Recorder.Data.Workspace;
using Recorder.Hub.Auth;
using Recorder.Hub.Connect;

namespace Recorder.Hub.XAgentWeb;

/// <summary>
/// <c>POST /api/workspace/file</c> (form fields <c>user_id</c>, <c>token</c>, <c>interaction_id</c>, <c>file_name</c>):
/// a file of the caller's own interaction's workspace, for the workspace panel of XAgent's web UI, answered as the
/// original does: pictures as a <c>data:image/&lt;suffix&gt;;base64,</c> URL, JSON pretty-printed, other text as it
/// is, each in <c>{"data", "success", "message"}</c>; media, pdf, office and notebook files as the file itself.
/// </summary>
public static partial class WorkspaceFileApi
{
    public const string Path = "/api/workspace/file";
    public const string InteractionNotExist = "interaction is not exist!";
    public const string FileNotExist = "file is not exist!";
    public const string Success = "get file success!";

    /// <summary>Largest form accepted: four short fields.</summary>
    private const long MaxFormBytes = 64 * 1024;

    private static readonly HashSet<string> Pictures = new(["jpg", "png", "jpeg", "gif", "bmp"], StringComparer.OrdinalIgnoreCase);
    private static readonly HashSet<string> Videos = new(["mp4", "avi", "mkv", "rmvb", "rm", "flv", "3gp", "wmv"], StringComparer.OrdinalIgnoreCase);
    private static readonly HashSet<string> Audio = new(["mp3", "wav", "wma", "ogg", "aac", "flac", "ape"], StringComparer.OrdinalIgnoreCase);
    private static readonly HashSet<string> Documents = new(["pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "ipynb"], StringComparer.OrdinalIgnoreCase);

    private static readonly JsonWriterOptions PrettyJson = new()
    {
        Indented = true,
        IndentSize = 4,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static IEndpointConventionBuilder MapWorkspaceFileApi(this IEndpointRouteBuilder app) =>
        app.MapPost(Path, GetFileAsync);

    private static async Task<IResult> GetFileAsync(
        HttpContext context, UserCheck users, InteractionRepository interactions, WorkspaceRepository workspace, ILoggerFactory loggers)
    {
        var cancellationToken = context.RequestAborted;
        if (!context.Request.HasFormContentType)
        {
            return Reply(StatusCodes.Status400BadRequest,
                "send user_id, token, interaction_id and file_name as form fields (multipart/form-data or application/x-www-form-urlencoded)");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxFormBytes;
        }

        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidDataException or BadHttpRequestException or IOException)
        {
            return Reply(StatusCodes.Status400BadRequest, $"the form could not be read (at most {MaxFormBytes} bytes): {exception.Message}");
        }

        string? userId = form["user_id"];
        if (await users.FailureAsync(userId, form["token"], notBeta: null, context.Connection.RemoteIpAddress, cancellationToken) is { } refusal)
        {
            return Reply(StatusCodes.Status401Unauthorized, refusal);
        }

        string? interactionId = form["interaction_id"];
        var interaction = InteractionSessions.IsInteractionId(interactionId)
            ? await interactions.FindAsync(interactionId!, cancellationToken)
            : null;
        if (interaction is null || interaction.IsDeleted || interaction.UserId != userId)
        {
            return Reply(StatusCodes.Status200OK, InteractionNotExist);
        }

        string? fileName = form["file_name"];
        if (!IsWorkspaceName(fileName))
        {
            return Reply(StatusCodes.Status200OK, FileNotExist);
        }

        var found = await workspace.ReadAsync([(interaction.InteractionId, fileName!)], cancellationToken);
        if (!found.TryGetValue((interaction.InteractionId, fileName!), out var content))
        {
            return Reply(StatusCodes.Status200OK, FileNotExist);
        }

        var suffix = fileName!.Split('.')[^1];
        if (Pictures.Contains(suffix))
        {
            return Reply($"data:image/{suffix};base64,{Convert.ToBase64String(content)}");
        }

        var mediaType = Videos.Contains(suffix) ? $"video/{suffix}"
            : Audio.Contains(suffix) ? $"audio/{suffix}"
            : Documents.Contains(suffix) ? $"application/{suffix}"
            : null;
        if (mediaType is not null)
        {
            return Results.File(content, mediaType, fileName.Split('/')[^1]);
        }

        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(content);
        }
        catch (DecoderFallbackException)
        {
            return Reply(StatusCodes.Status200OK, $"file is not UTF-8 text: {fileName}");
        }

        if (string.Equals(suffix, "json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                text = Pretty(text);
            }
            catch (JsonException exception)
            {
                // Not valid JSON: shown as the text it is (the original failed with a server error).
                Log.NotJson(loggers.CreateLogger(typeof(WorkspaceFileApi)), fileName, interaction.InteractionId, exception.Message);
            }
        }

        return Reply(text);
    }

    /// <summary>A name as the workspace lists it: relative, no <c>..</c> or <c>.</c> segment, no backslash or NUL, not empty.</summary>
    private static bool IsWorkspaceName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 1024 && !System.IO.Path.IsPathRooted(name)
        && name.IndexOfAny(['\\', '\0']) < 0
        && name.Split('/').All(segment => segment.Length > 0 && segment is not ("." or ".."));

    /// <summary><c>json.dumps(json.load(f), ensure_ascii=False, indent=4)</c>.</summary>
    private static string Pretty(string json)
    {
        using var document = JsonDocument.Parse(json);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, PrettyJson))
        {
            document.RootElement.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private static IResult Reply(string data) => Results.Json(new WorkspaceFileReply(data, true, Success));

    private static IResult Reply(int statusCode, string failure) => Results.Json(new WorkspaceFileReply(null, false, failure), statusCode: statusCode);

    private static partial class Log
    {
        [LoggerMessage(EventId = 6201, EventName = "WorkspaceFileNotJson", Level = LogLevel.Debug, Message = "Workspace file {FileName} of {InteractionId} is not valid JSON ({Reason}); sent as text")]
        public static partial void NotJson(ILogger logger, string fileName, string interactionId, string reason);
    }
}
