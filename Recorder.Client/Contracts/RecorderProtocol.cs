using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Recorder.Client.Contracts;

/// <summary>Fixed names of the wire contract.</summary>
public static class RecorderProtocol
{
    /// <summary>The hub's URL path.</summary>
    public const string HubPath = "/hubs/recorder";

    /// <summary>Query string (or header) carrying the user id.</summary>
    public const string UserIdKey = "user_id";

    /// <summary>Query string (or header) carrying the user's token.</summary>
    public const string TokenKey = "token";

    /// <summary>Query string (or header) naming the recording.</summary>
    public const string RecorderDirKey = "recorder_dir";

    /// <summary>Query string (or header) carrying the interaction id; generated when absent.</summary>
    public const string ClientIdKey = "client_id";

    /// <summary>Query string (or header) carrying the replay speed the client wants (absent: the server's setting).</summary>
    public const string SpeedKey = "speed";

    /// <summary>Prefix of the header form of the keys above, e.g. <c>X-Recorder-User-Id</c>.</summary>
    public static string HeaderName(string key) => key switch
    {
        UserIdKey => "X-Recorder-User-Id",
        TokenKey => "X-Recorder-Token",
        RecorderDirKey => "X-Recorder-Dir",
        ClientIdKey => "X-Recorder-Client-Id",
        SpeedKey => "X-Recorder-Speed",
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "Not a connect parameter."),
    };

    /// <summary>Applies the wire's JSON conventions (snake_case, no escaping of non-ASCII) to <paramref name="options"/>.</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        return options;
    }

    /// <summary>Serializer options with the wire's JSON conventions.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
