using Recorder.Client.Contracts;

namespace Recorder.Hub.Auth;

/// <summary>
/// The connect values a client sends, from the query string or (for .NET clients) headers, read once per request and
/// kept as a request feature for the authentication handler and the hub.
/// </summary>
public sealed record ConnectParameters(string? UserId, string? Token, string? RecorderDir, string? ClientId, string? Speed = null)
{
    /// <summary>The request's connect values (parsed on first use).</summary>
    public static ConnectParameters Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Features.Get<ConnectParameters>() is { } parsed)
        {
            return parsed;
        }

        var request = context.Request;
        parsed = new ConnectParameters(
            Read(request, RecorderProtocol.UserIdKey),
            Read(request, RecorderProtocol.TokenKey),
            Read(request, RecorderProtocol.RecorderDirKey),
            Read(request, RecorderProtocol.ClientIdKey),
            Read(request, RecorderProtocol.SpeedKey));
        context.Features.Set(parsed);
        return parsed;
    }

    private static string? Read(HttpRequest request, string key)
    {
        string? value = request.Query[key];
        if (string.IsNullOrEmpty(value))
        {
            value = request.Headers[RecorderProtocol.HeaderName(key)];
        }

        return string.IsNullOrEmpty(value) ? null : value;
    }
}
