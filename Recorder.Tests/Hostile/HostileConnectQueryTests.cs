namespace Recorder.Tests.Hostile;

/// <summary>
/// Generated connect queries over a raw WebSocket (no client library to tidy them): each value of user_id, token,
/// client_id and recorder_dir that is empty, huge, control characters, unicode, bad UTF-8, path tricks, SQL-ish,
/// odd percent-encoding or duplicated gets the documented refusal word for word, writes nothing, and the server
/// still serves.
/// </summary>
public sealed class HostileConnectQueryTests(HostileConnectServer server) : IClassFixture<HostileConnectServer>
{
    private const string NotExist = "user is not exist!";
    private const string NotAvailable = "user is not available!";
    private const string ClientId = "client_id must be 1 to 64 characters among letters, digits, '-' and '_'.";
    private const string Required = "recorder_dir is required: name the recording to replay.";
    private const string TooLong = "recorder_dir is longer than 512 characters.";
    private const string Control = "recorder_dir must not contain control characters.";
    private const string Absolute = "recorder_dir must be a path relative to the recordings root, not an absolute path.";
    private const string Segments = "recorder_dir must not contain '..', '.' or empty path segments: it must stay inside the recordings root.";
    private const string Escapes = "recorder_dir leads outside the recordings root through a symbolic link.";

    /// <summary>Values (as they go into the query, percent-encoding included) that any field may get.</summary>
    private static readonly string[] Common =
    [
        "%00", "%01", "%0A", "%0D%0A", "%1B%5B31m", "%7F", "%E2%80%AE", "%EF%BB%BF", "%F0%9F%98%80", "%E7%94%A8%E6%88%B7",
        "%FF%FE", "%C0%AF", "%ED%A0%80", "%2", "%zz", "%25", "%2525", "'%20OR%20'1'%3D'1", "x'%3B%20DROP%20TABLE%20users%3B--",
        "%22%3E%3Cscript%3E", "%24%7Bjndi%3Aldap%3A%2F%2Fx%7D", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "C%3A%5CWindows",
        "%5C%5Cserver%5Cshare", "a%2Bb", "+", "%u0041", "%%", new string('a', 4000),
    ];

    /// <summary>(field, value, documented refusal): the field's value replaces the valid one ({user}, {token} stand for the case's user).</summary>
    public static TheoryData<string, string, string> Cases()
    {
        var cases = new TheoryData<string, string, string>();
        foreach (var value in Common.Concat(["", "%20", "%09", new string('u', 257), "{user}%20", "%20{user}", "{USER}", "{user}%00",
                     "{user}&user_id={user}", "nobody&user_id={user}", "{user}'--", "{user}%2F..", "%7B%7D", "null", "undefined"]))
        {
            cases.Add("user_id", value, NotExist);
        }

        cases.Add("user_id", "<omit>", NotExist);
        foreach (var value in Common.Concat(["", "%20", "{token}x", "{token}%20", "%20{token}", "{TOKEN}", "{token8}", "{token}%00",
                     "{token}&token={token}", "x&token={token}", "{token}'%20OR%201%3D1--", "null"]))
        {
            cases.Add("token", value, NotAvailable);
        }

        cases.Add("token", "<omit>", NotAvailable);
        foreach (var value in Common.Concat(["%20", new string('c', 65), "a%20b", "a.b", "a%2Fb", "..", "a,b", "abc&client_id=def", "a%2Fb%2F..%2Fc"]))
        {
            cases.Add("client_id", value, ClientId);
        }

        foreach (var (value, expected) in new[]
                 {
                     ("", Required), ("%20", Required), ("%09", Required), ("%20%0A%20", Required), ("<omit>", Required),
                     (new string('r', 513), TooLong), (new string('r', 4000), TooLong),
                     ("a%00b", Control), ("multi_subtask%0A", Control), ("a%1Bb", Control), ("a%7Fb", Control), ("%C2%85x", Control),
                     ("%2Fetc", Absolute), ("%2Fetc%2Fpasswd", Absolute), ("%5Cetc", Absolute), ("~root", Absolute), ("~", Absolute),
                     ("C%3A%5Cx", Absolute), ("D:x", Absolute), ("%2F", Absolute), ("%2Fa&recorder_dir=b", Absolute),
                     ("..", Segments), ("%2E%2E", Segments), (".", Segments), ("..%2Fmulti_subtask", Segments), ("a%2F..%2Fb", Segments),
                     ("a%5C..%5Cb", Segments), ("a%2F.%2Fb", Segments), ("a%2F%2Fb", Segments), ("multi_subtask%2F", Segments),
                     ("multi_subtask%5C", Segments), ("..%2F..%2F..%2Fetc%2Fpasswd", Segments), ("multi_subtask%2F..", Segments),
                     ("escape", Escapes), ("escape%2F1.1", Escapes),
                 })
        {
            cases.Add("recorder_dir", value, expected);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AHostileConnectValueGetsItsDocumentedRefusalAndWritesNothing(string field, string value, string expected)
    {
        var (userId, token) = await server.NewUserAsync();
        var fields = new Dictionary<string, string>
        {
            ["user_id"] = userId,
            ["token"] = token,
            ["recorder_dir"] = "multi_subtask",
            ["client_id"] = Guid.NewGuid().ToString("N"),
        };
        if (value == "<omit>")
        {
            fields.Remove(field);
        }
        else
        {
            fields[field] = value.Replace("{user}", userId, StringComparison.Ordinal).Replace("{USER}", userId.ToUpperInvariant(), StringComparison.Ordinal)
                .Replace("{token8}", token[..8], StringComparison.Ordinal).Replace("{token}", token, StringComparison.Ordinal)
                .Replace("{TOKEN}", token.ToUpperInvariant(), StringComparison.Ordinal);
        }

        var before = await HostileChecks.RowsAsync(server, userId);
        var (socket, first) = await RawSignalRSocket.ConnectAsync(server.HubUrl, string.Join('&', fields.Select(f => $"{f.Key}={f.Value}")));
        await using (socket)
        {
            Assert.False(first.GetProperty("success").GetBoolean(), $"accepted: {first}");
            Assert.Equal(0, first.GetProperty("seq").GetInt64());
            Assert.Equal(expected, first.GetProperty("message").GetString());

            // The refused connection is closed by the server, and never attached.
            var start = await socket.InvokeAsync("StartRecorder", "[]");
            if (start is { } completion)
            {
                Assert.Contains("this connection is not attached to an interaction.", completion.GetProperty("error").GetString(), StringComparison.Ordinal);
            }
        }

        Assert.Equal(before, await HostileChecks.RowsAsync(server, userId));
        await HostileChecks.AssertUpAsync(server);
    }

    [Fact]
    public Task AfterTheHostileConnectsAHealthyReplayStillWorks() => HostileChecks.AssertHealthyReplayAsync(server);
}
