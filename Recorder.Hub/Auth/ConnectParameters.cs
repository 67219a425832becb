using Recorder.Client.Contracts;

namespace Recorder.Hub.Auth;

/// <summary>The connect values a client sends, from the query string or (for .NET clients) headers.</summary>
public sealed record ConnectParameters(string? UserId, string? Token, string? RecorderDir, string? ClientId)
{
    public static ConnectParameters From(HttpRequest request) => new(
        Read(request, RecorderProtocol.UserIdKey),
        Read(request, RecorderProtocol.TokenKey),
        Read(request, RecorderProtocol.RecorderDirKey),
        Read(request, RecorderProtocol.ClientIdKey));

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
