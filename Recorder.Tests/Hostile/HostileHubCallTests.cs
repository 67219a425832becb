using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Hostile;

/// <summary>
/// Generated hub calls on an attached connection, as raw invocation frames: wrong method names, wrong argument counts
/// and types, huge arguments, Resume with negative or huge seqs or with someone else's interaction. Each fails with an
/// error (the documented text where there is one) or, where the call is legal, does nothing; the connection still
/// answers Ping, the rows are unchanged and the server still serves.
/// </summary>
public sealed class HostileHubCallTests(HubServer server) : IClassFixture<HubServer>
{
    private const string NotYours = "does not exist or is not yours.";
    private const string Negative = "afterSeq must be 0 or more.";

    /// <summary>Any error will do: the hub's own text is SignalR's (unknown method, bad arguments).</summary>
    private const string AnyError = "<any error>";

    /// <summary>A frame that is not valid SignalR JSON: the connection is closed with an error, the server stays up.</summary>
    private const string Closes = "<closes>";

    /// <summary>A legal call that must change nothing and send no raw.</summary>
    private const string NoEffect = "<no effect>";

    /// <summary>(target, arguments as JSON with {id} = the connection's interaction, {other} = another user's, expected).</summary>
    public static TheoryData<string, string, string> Cases()
    {
        var cases = new TheoryData<string, string, string>();
        foreach (var name in new[]
                 {
                     "", " ", "Start_Recorder", "StartRecorder ", " StartRecorder", "StartRecorder\u0000", "Nope", "OnConnectedAsync",
                     "OnDisconnectedAsync", "Dispose", "GetType", "ToString", "GetHashCode", "Clients", "Context", "Groups", "Resume.", "用户",
                     "../Resume", "Recorder.Hub.RecorderHub.Resume", new string('m', 4000), "%52esume", "Message", "Pong",
                 })
        {
            cases.Add(name, "[]", AnyError);
        }

        foreach (var (target, arguments) in new[]
                 {
                     ("StartRecorder", "[1]"), ("StartRecorder", "[\"x\"]"), ("StartRecorder", "[null, null]"), ("Ping", "[1]"), ("Ping", "[{}]"),
                     ("Resume", "[]"), ("Resume", "[\"{id}\"]"), ("Resume", "[\"{id}\", 0, 1]"), ("Resume", "[0]"),
                     ("Resume", "[1, 0]"), ("Resume", "[true, 0]"), ("Resume", "[{}, 0]"), ("Resume", "[[], 0]"),
                     ("Resume", "[\"{id}\", 1.5]"), ("Resume", "[\"{id}\", 1e30]"), ("Resume", "[\"{id}\", 99999999999999999999999]"),
                     ("Resume", "[\"{id}\", null]"), ("Resume", "[\"{id}\", {}]"), ("Resume", "[\"{id}\", []]"), ("Resume", "[\"{id}\", \"abc\"]"),
                     ("Resume", "[\"{id}\", true]"), ("Resume", "[\"{id}\", \"0x10\"]"),
                     ("Resume", $"[\"{{id}}\", \"{new string('9', 20000)}\"]"), ("StartRecorder", $"[\"{new string('x', 30000)}\"]"),
                 })
        {
            cases.Add(target, arguments, AnyError);
        }

        // Not an invocation SignalR can read (arguments not a list, not JSON): documented to close the connection.
        foreach (var arguments in new[] { "\"not a list\"", "{}", "null", "[\"{id}\", 0x10]", "[\"{id}\", NaN]" })
        {
            cases.Add("Resume", arguments, Closes);
        }

        foreach (var (arguments, expected) in new[]
                 {
                     ("[\"{id}\", -1]", Negative), ("[\"{id}\", -9223372036854775808]", Negative), ("[\"{other}\", -1]", Negative),
                     ("[\"\", 0]", NotYours), ("[\"" + new string('i', 65) + "\", 0]", NotYours), ("[\"{other}\", 0]", NotYours),
                     ("[\"{other}\", 9223372036854775807]", NotYours), ("[\"nosuch\", 0]", NotYours), ("[\"' OR 1=1--\", 0]", NotYours),
                     ("[\"{id}\\u0000\", 0]", NotYours), ("[\"{id} \", 0]", NotYours), ("[\"../{id}\", 0]", NotYours),
                     ("[\"" + new string('z', 30000) + "\", 0]", NotYours), ("[null, 0]", NotYours), ("[\"{ID}\", 0]", NotYours),
                     ("[\"{id}\", 9223372036854775807]", NoEffect), ("[\"{id}\", 0]", NoEffect), ("[\"{id}\", 1000000]", NoEffect),
                 })
        {
            cases.Add("Resume", arguments, expected);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AHostileHubCallFailsClearlyAndTheConnectionAndServerStayUp(string target, string arguments, string expected)
    {
        var (userId, token) = await server.NewUserAsync();
        var interactionId = Guid.NewGuid().ToString("N");
        var other = arguments.Contains("{other}", StringComparison.Ordinal) ? await OtherUsersInteractionAsync() : "";
        var (socket, first) = await RawSignalRSocket.ConnectAsync(server.HubUrl,
            $"user_id={userId}&token={token}&recorder_dir=multi_subtask&client_id={interactionId}");
        await using (socket)
        {
            Assert.True(first.GetProperty("success").GetBoolean(), $"refused: {first}");
            Assert.True(await socket.PingPongsAsync(), "no Pong before the call");
            var before = await HostileChecks.RowsAsync(server, userId);

            var completion = await socket.InvokeAsync(target, arguments.Replace("{id}", interactionId, StringComparison.Ordinal)
                .Replace("{ID}", interactionId.ToUpperInvariant(), StringComparison.Ordinal).Replace("{other}", other, StringComparison.Ordinal));

            if (expected == Closes)
            {
                Assert.Null(completion);
                Assert.Equal(before.Split(" | ")[1], (await HostileChecks.RowsAsync(server, userId)).Split(" | ")[1]);
                Assert.Equal("waiting", await server.QueryScalarAsync<string>(
                    "SELECT status FROM interactions WHERE interaction_id = @interactionId", new { interactionId }));
                await HostileChecks.AssertUpAsync(server);
                return;
            }

            Assert.True(completion.HasValue, "the server closed the connection instead of failing the call");
            var error = completion.Value.TryGetProperty("error", out var e) ? e.GetString() : null;
            switch (expected)
            {
                case NoEffect:
                    Assert.Null(error);
                    break;
                case AnyError:
                    Assert.False(string.IsNullOrWhiteSpace(error), $"no error for {target}({arguments[..Math.Min(80, arguments.Length)]}): {completion}");
                    break;
                default:
                    Assert.NotNull(error);
                    Assert.Contains(expected, error, StringComparison.Ordinal);
                    break;
            }

            // The connection still serves, no raw was sent for the call, and nothing was written.
            Assert.True(await socket.PingPongsAsync(), "no Pong after the call");
            Assert.Equal(before, await HostileChecks.RowsAsync(server, userId));
            Assert.Equal("waiting", await server.QueryScalarAsync<string>(
                "SELECT status FROM interactions WHERE interaction_id = @interactionId", new { interactionId }));
        }

        await HostileChecks.AssertUpAsync(server);
    }

    /// <summary>An interaction of a user other than the case's.</summary>
    private async Task<string> OtherUsersInteractionAsync()
    {
        var (userId, token) = await server.NewUserAsync();
        var id = Guid.NewGuid().ToString("N");
        var (socket, first) = await RawSignalRSocket.ConnectAsync(server.HubUrl, $"user_id={userId}&token={token}&recorder_dir=multi_subtask&client_id={id}");
        await socket.DisposeAsync();
        Assert.True(first.GetProperty("success").GetBoolean(), $"refused: {first}");
        return id;
    }

    [Fact]
    public Task AfterTheHostileCallsAHealthyReplayStillWorks() => HostileChecks.AssertHealthyReplayAsync(server);

    [Fact]
    public void TheCasesAreDistinct()
    {
        var all = Cases().Select(c => $"{c[0]}|{c[1]}").ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.True(all.Count >= 60, $"{all.Count} cases");
    }
}
