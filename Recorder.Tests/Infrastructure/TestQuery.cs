using System.Globalization;
using Microsoft.AspNetCore.WebUtilities;
using Recorder.Client.Contracts;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// The tests' query strings, escaped by ASP.NET Core's <see cref="QueryHelpers"/> as the typed client's connect URL is:
/// user_id and token, then the given pairs in order, a pair whose value is null left out. Hostile/ and the tests of a
/// malformed query build theirs by hand on purpose.
/// </summary>
internal static class TestQuery
{
    /// <summary><paramref name="url"/> (a path or an absolute URL) with the query appended.</summary>
    public static string Url(string url, string userId, string token, params (string Key, object? Value)[] pairs) =>
        QueryHelpers.AddQueryString(url,
        [
            new(RecorderProtocol.UserIdKey, userId),
            new(RecorderProtocol.TokenKey, token),
            .. pairs.Select(p => new KeyValuePair<string, string?>(p.Key, Convert.ToString(p.Value, CultureInfo.InvariantCulture))),
        ]);

    /// <summary>The query alone, without its '?' (for <see cref="UriBuilder.Query"/> and the helpers that take one).</summary>
    public static string Of(string userId, string token, params (string Key, object? Value)[] pairs) =>
        Url("", userId, token, pairs)[1..];

    /// <summary>The hub's connect query: user_id, token, recorder_dir and, when given, client_id.</summary>
    public static string Connect(string userId, string token, string recorderDir, string? clientId = null) =>
        Of(userId, token, (RecorderProtocol.RecorderDirKey, recorderDir), (RecorderProtocol.ClientIdKey, clientId));
}
