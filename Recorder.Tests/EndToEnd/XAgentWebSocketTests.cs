using System.Net.WebSockets;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Recorder.Tests.Infrastructure;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// <c>/ws/recorder/{client_id}</c> as XAgent's web UI uses it (<see cref="XAgentWebClient"/>): the frames of a whole
/// replay in the original's shape and key order, rendered as the chat view renders them; every refusal in its words;
/// frames the server does not take.
/// </summary>
public sealed class XAgentWebSocketTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    public static readonly string[] RefusalKeys = ["data", "status", "message", "success"];
    public static readonly string[] ConnectKeys = ["data", "status", "message", "success", "interaction_id", "seq"];
    public static readonly string[] RawKeys = ["data", "status", "message", "success", "current", "node_id", "workspace_file_list", "interaction_id", "seq"];

    public static readonly string[] InteractionKeys =
    [
        "interaction_id", "user_id", "create_time", "description", "agent", "mode", "file_list", "recorder_root_dir",
        "status", "message", "current_step", "update_time", "is_deleted", "call_method", "last_seq",
    ];

    private const string ProductionMode = "XAgentServer is running in production mode, if you want to use it, please contact the administrator.";

    [Fact]
    public async Task AMultiSubtaskReplayReachesTheUiOnceInSeqOrderInTheOriginalsShapeAndRendersWithItsPicture()
    {
        var (user, token) = await server.NewUserAsync();
        var clientId = Guid.NewGuid().ToString(); // the UI's dashed uuid
        await using var client = await XAgentWebClient.ConnectAsync(server.BaseUrl, clientId, XAgentWebClient.Query(user, token, "multi_subtask"), Ct);
        await client.Closed.WaitAsync(TestEnvironment.Timeout);

        var frames = client.Frames;
        var connect = frames[0];
        Assert.StartsWith("{\n  \"data\": {\n    \"interaction_id\": ", connect.Text, StringComparison.Ordinal);
        Assert.Equal(ConnectKeys, connect.Keys);
        Assert.Equal("connect", connect.Status);
        Assert.Equal("connect success", connect.Json.GetProperty("message").GetString());
        Assert.True(connect.Json.GetProperty("success").GetBoolean());
        var interaction = connect.Json.GetProperty("data");
        Assert.Equal(InteractionKeys, interaction.EnumerateObject().Select(p => p.Name));
        Assert.Equal(clientId, interaction.GetProperty("interaction_id").GetString());
        Assert.Equal(user, interaction.GetProperty("user_id").GetString());
        Assert.Equal("waiting", interaction.GetProperty("status").GetString());
        Assert.Equal("recorder", interaction.GetProperty("call_method").GetString());
        Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", interaction.GetProperty("create_time").GetString());

        // Every raw once, in seq order, each in the original's key order, then the server's close 1000.
        var raws = frames.Skip(1).ToList();
        Assert.All(raws, f => Assert.Equal(RawKeys, f.Keys));
        Assert.All(raws, f => Assert.StartsWith("{\n  \"data\": ", f.Text, StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(1, raws.Count).Select(i => (long)i), raws.Select(f => f.Seq));
        Assert.Equal(await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask")), raws.Select(f => f.Status));
        Assert.All(raws, f => Assert.Equal("success", f.Json.GetProperty("message").GetString()));
        Assert.All(raws, f => Assert.Equal(clientId, f.Json.GetProperty("interaction_id").GetString()));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.Equal(["""{"type":"recorder"}""", """{"type":"connect"}""", """{"type":"disconnect"}"""], client.Sent);

        // The chat view's rendering: start -> subtasks; inner/subtask_submit -> onto the subtask whose task_id is
        // current; refinement -> the current subtask by index; subtask -> the next one.
        var subtasks = new List<(string TaskId, List<JsonElement> Inner, List<JsonElement> Refinements)>();
        var index = 0;
        foreach (var frame in raws)
        {
            var data = frame.Json.GetProperty("data");
            var current = frame.Json.GetProperty("current").GetString();
            switch (frame.Status)
            {
                case "start":
                    subtasks = [.. data.GetProperty("subtasks").EnumerateArray().Select(s => (s.GetProperty("task_id").GetString()!, new List<JsonElement>(), new List<JsonElement>()))];
                    break;
                case "inner" or "subtask_submit":
                    var target = subtasks.FindIndex(s => s.TaskId == current);
                    Assert.True(target >= 0, $"no subtask {current} for {frame.Status} seq {frame.Seq}");
                    subtasks[target].Inner.Add(data);
                    break;
                case "refinement":
                    Assert.Equal(subtasks[index].TaskId, data.GetProperty("task_id").GetString());
                    subtasks[index].Refinements.Add(data);
                    break;
                case "subtask":
                    index++;
                    Assert.Equal(subtasks[index].TaskId, current);
                    break;
            }
        }

        Assert.Equal(["1.1", "1.2", "1.3"], subtasks.Select(s => s.TaskId));
        Assert.All(subtasks, s => Assert.NotEmpty(s.Inner));
        Assert.All(subtasks, s => Assert.Single(s.Refinements));
        foreach (var inner in subtasks.SelectMany(s => s.Inner))
        {
            Assert.Equal(JsonValueKind.String, inner.GetProperty("thoughts").ValueKind);
            var tools = inner.GetProperty("using_tools");
            Assert.Equal(JsonValueKind.String, tools.GetProperty("tool_name").ValueKind);
            Assert.Equal(JsonValueKind.String, tools.GetProperty("tool_status_code").ValueKind);
        }

        var picture = await File.ReadAllBytesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask", "workspace", "plot.png"));
        var notebook = subtasks.SelectMany(s => s.Inner).Single(i => i.GetProperty("using_tools").GetProperty("tool_name").GetString() == XAgentReplayMapper.NotebookTool);
        Assert.True(notebook.GetProperty("using_tools").GetProperty("is_include_pictures").GetBoolean());
        var item = notebook.GetProperty("using_tools").GetProperty("tool_output").EnumerateArray()
            .Single(o => o.ValueKind == JsonValueKind.Object && o.TryGetProperty("file_name", out var name) && name.GetString() == "plot.png");
        Assert.Equal(Convert.ToBase64String(picture), item.GetProperty("file_data").GetString());
        Assert.Contains(raws[^1].Json.GetProperty("workspace_file_list").EnumerateArray(),
            f => f.GetProperty("name").GetString() == "plot.png" && f.GetProperty("suffix").GetString() == "png");

        Assert.Equal("finished", await server.QueryScalarAsync<string>("SELECT status FROM interactions WHERE interaction_id = @clientId", new { clientId }));
        await Eventually.UntilAsync(
            () => server.QueryScalarAsync<long>("SELECT count(*) FROM raw WHERE interaction_id = @clientId AND NOT is_send", new { clientId }),
            unsent => unsent == 0, TestEnvironment.Timeout, "every raw marked sent");
    }

    [Fact]
    public async Task AnEmojiInARawReachesTheUiAsRawUtf8AsPythonWritesIt()
    {
        // multi_subtask with its first plain tool call's output replaced by text the relaxed encoder would escape.
        const string output = "结果 😀 𠀀 end\u2028";
        var recording = await XAgentDiskReader.ReadAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"), Ct);
        var plain = recording.ToolCalls.First(c => c.ToolName is not (XAgentReplayMapper.SubmitTool or XAgentReplayMapper.NotebookTool));
        var name = $"emoji_{Guid.NewGuid():N}";
        await server.ImportAsync(name, recording with { ToolCalls = [.. recording.ToolCalls.Select(c => c == plain ? c with { ToolOutput = output } : c)] }, Ct);

        var (user, token) = await server.NewUserAsync();
        await using var client = await XAgentWebClient.ConnectAsync(server.BaseUrl, Guid.NewGuid().ToString(), XAgentWebClient.Query(user, token, name), Ct);
        await client.Closed.WaitAsync(TestEnvironment.Timeout);

        var frame = Assert.Single(client.Raws, f => f.Json.GetProperty("data") is { ValueKind: JsonValueKind.Object } data
            && data.TryGetProperty("using_tools", out var tools) && tools.ValueKind == JsonValueKind.Object
            && tools.GetProperty("tool_output").ValueKind == JsonValueKind.String && tools.GetProperty("tool_output").GetString() == output);
        // The text is the frame's UTF-8 decoded: escapes would show here as \uD83D\uDE00, \uD840\uDC00, \u2028.
        Assert.Contains($"\"tool_output\": \"{output}\"", frame.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterTheLastFrameTheServerClosesWith1000EvenWhenTheClientDoesNotAndReattachingReplaysFromSeqOne()
    {
        var (user, token) = await server.NewUserAsync();
        var clientId = Guid.NewGuid().ToString("N");
        var query = XAgentWebClient.Query(user, token, "multi_subtask");
        List<long> first;
        await using (var client = await XAgentWebClient.ConnectAsync(server.BaseUrl, clientId, query, Ct))
        {
            await client.Closed.WaitAsync(TestEnvironment.Timeout);
            first = [.. client.Raws.Select(f => f.Seq)];
        }

        // A client that never closes: it is closed 1000 a moment after the finished frame.
        await using var again = await XAgentWebClient.ConnectAsync(server.BaseUrl, clientId, query, Ct, closeAtEnd: false);
        await again.UntilAsync(f => f.Any(x => x.Status == "finished"), Ct);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await CloseOfAsync(again));
        Assert.Equal("connect", again.Frames[0].Status);
        Assert.Equal("finished", again.Frames[0].Json.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal(first, again.Raws.Select(f => f.Seq));
        Assert.Equal(1, await server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE interaction_id = @clientId", new { clientId }));
    }

    /// <summary>The user, whether it already has a waiting interaction, and the refusal.</summary>
    public static TheoryData<UserKind, bool, string> Refusals => new()
    {
        { UserKind.Unknown, false, "user is not exist!" },
        { UserKind.Deleted, false, "user is not exist!" },
        { UserKind.WrongToken, false, "user is not available!" },
        { UserKind.Unavailable, false, "user is not available!" },
        { UserKind.NotBeta, false, ProductionMode },
        { UserKind.Valid, true, "You have a running interaction, please wait for it to finish!" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task EachRefusalIsAFailedFrameInTheOriginalsWordsAfterTheAcceptThenClose1000AndCreatesNothing(UserKind who, bool hasWaiting, string expected)
    {
        var (userId, token) = await server.UserAsync(who);
        XAgentWebClient? busy = null;
        if (hasWaiting)
        {
            // The user's first interaction waits (its run not started): check_running refuses a second one.
            busy = await XAgentWebClient.ConnectAsync(server.BaseUrl, Guid.NewGuid().ToString("N"), XAgentWebClient.Query(userId, token, "multi_subtask"), Ct, sendRecorder: false);
            Assert.Equal("connect", (await busy.First.WaitAsync(TestEnvironment.Timeout)).Status);
        }

        try
        {
            var clientId = Guid.NewGuid().ToString("N");
            await using var client = await XAgentWebClient.ConnectAsync(server.BaseUrl, clientId, XAgentWebClient.Query(userId, token, "multi_subtask"), Ct);
            var refusal = await client.First.WaitAsync(TestEnvironment.Timeout);
            AssertRefusal(refusal, expected);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, await CloseOfAsync(client));
            Assert.Single(client.Frames);
            Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE interaction_id = @clientId", new { clientId }));
        }
        finally
        {
            if (busy is not null)
            {
                await busy.DisposeAsync();
            }
        }
    }

    public static TheoryData<string, string, string> BadConnects => new()
    {
        { "a.b", "multi_subtask", "client_id must be 1 to 64 characters among letters, digits, '-' and '_'." },
        { new string('a', 65), "multi_subtask", "client_id must be 1 to 64 characters among letters, digits, '-' and '_'." },
        { "ok", "../multi_subtask", "recorder_dir must not contain '..', '.' or empty path segments: it must stay inside the recordings root." },
        { "ok", "/etc", "recorder_dir must be a path relative to the recordings root, not an absolute path." },
        { "ok", "multi_subtask&after_seq=-1", "after_seq must be a whole number, 0 or more." },
        { "ok", "multi_subtask&after_seq=x", "after_seq must be a whole number, 0 or more." },
    };

    [Theory]
    [MemberData(nameof(BadConnects))]
    public async Task ABadClientIdRecorderDirOrAfterSeqIsRefusedInClearWordsAndCreatesNothing(string clientId, string recorderDir, string expected)
    {
        var (userId, token) = await server.NewUserAsync();
        var id = clientId == "ok" ? Guid.NewGuid().ToString("N") : clientId;
        var query = XAgentWebClient.Query(userId, token, "x").Replace("recorder_dir=x", $"recorder_dir={recorderDir}", StringComparison.Ordinal);
        await using var client = await XAgentWebClient.ConnectAsync(server.BaseUrl, id, query, Ct);

        AssertRefusal(await client.First.WaitAsync(TestEnvironment.Timeout), expected);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await CloseOfAsync(client));
        Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE user_id = @userId", new { userId }));
    }

    public static TheoryData<string, WebSocketCloseStatus> BadFrames => new()
    {
        { "text:not json", WebSocketCloseStatus.InvalidMessageType },
        { "text:[\"recorder\"]", WebSocketCloseStatus.InvalidMessageType },
        { "text:\"recorder\"", WebSocketCloseStatus.InvalidMessageType },
        { "text:{\"type\":\"recorder\"", WebSocketCloseStatus.InvalidMessageType },
        { "binary:{\"type\":\"recorder\"}", WebSocketCloseStatus.InvalidMessageType },
        { "oversized", WebSocketCloseStatus.MessageTooBig },

        // Not UTF-8: the WebSocket itself closes it (1007, without a reason) before any frame is read.
        { "bytes:invalid utf-8", WebSocketCloseStatus.InvalidPayloadData },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task AFrameThatIsNotASmallJsonObjectClosesTheSocketWithAReasonAndChangesNothing(string frame, WebSocketCloseStatus expected)
    {
        var (userId, token) = await server.NewUserAsync();
        var clientId = Guid.NewGuid().ToString("N");
        await using var client = await XAgentWebClient.ConnectAsync(server.BaseUrl, clientId, XAgentWebClient.Query(userId, token, "multi_subtask"), Ct, sendRecorder: false);
        Assert.Equal("connect", (await client.First.WaitAsync(TestEnvironment.Timeout)).Status);

        var (bytes, type) = frame switch
        {
            "oversized" => (Encoding.UTF8.GetBytes($"{{\"type\":\"recorder\",\"pad\":\"{new string('x', 70 * 1024)}\"}}"), WebSocketMessageType.Text),
            "bytes:invalid utf-8" => (new byte[] { (byte)'{', 0xC3, 0x28, (byte)'}' }, WebSocketMessageType.Text),
            _ when frame.StartsWith("binary:", StringComparison.Ordinal) => (Encoding.UTF8.GetBytes(frame["binary:".Length..]), WebSocketMessageType.Binary),
            _ => (Encoding.UTF8.GetBytes(frame["text:".Length..]), WebSocketMessageType.Text),
        };
        await client.SendAsync(bytes, type, Ct);

        var close = await CloseOfAsync(client);
        if (expected == WebSocketCloseStatus.InvalidPayloadData)
        {
            // .NET's WebSocket sends 1007 and drops the connection at once: on a busy machine the close frame can be
            // lost with it, and the socket is just closed (docs/protocol.md). Closed it must be, either way.
            Assert.True(close is WebSocketCloseStatus.InvalidPayloadData or null, $"closed with {close}");
        }
        else
        {
            Assert.Equal(expected, close);
            Assert.False(string.IsNullOrWhiteSpace(client.CloseReason));
        }

        var state = (await server.QueryAsync<(string Status, bool RunRequested)>(
            "SELECT status, run_requested FROM interactions WHERE interaction_id = @clientId", new { clientId })).Single();
        Assert.Equal(("waiting", false), state);
        Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM raw WHERE interaction_id = @clientId", new { clientId }));

        // The server is still up: the same client_id re-attaches.
        await using var again = await XAgentWebClient.ConnectAsync(server.BaseUrl, clientId, XAgentWebClient.Query(userId, token, "multi_subtask"), Ct, sendRecorder: false);
        Assert.Equal("connect", (await again.First.WaitAsync(TestEnvironment.Timeout)).Status);
    }

    [Fact]
    public async Task WhenTheInstanceStopsItsSocketsAreClosedWith1001AtOnce()
    {
        var instance = await server.StartAsync(Ct);
        try
        {
            var (userId, token) = await server.NewUserAsync();
            await using var client = await XAgentWebClient.ConnectAsync(new Uri(instance.Urls.First()), Guid.NewGuid().ToString("N"),
                XAgentWebClient.Query(userId, token, "multi_subtask"), Ct, sendRecorder: false);
            Assert.Equal("connect", (await client.First.WaitAsync(TestEnvironment.Timeout)).Status);

            var stopping = System.Diagnostics.Stopwatch.StartNew();
            await instance.StopAsync(Ct).WaitAsync(TestEnvironment.Timeout);
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"the stop took {stopping.Elapsed}");
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await CloseOfAsync(client));
        }
        finally
        {
            await instance.DisposeAsync();
        }
    }

    [Fact]
    public async Task APlainHttpRequestToTheSocketPathGetsAClearError()
    {
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        using var response = await http.GetAsync(new Uri("/ws/recorder/abc", UriKind.Relative), Ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("WebSocket", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    internal static void AssertRefusal(XAgentWebClient.Frame refusal, string expected)
    {
        Assert.Equal(RefusalKeys, refusal.Keys);
        Assert.Equal(JsonValueKind.Null, refusal.Json.GetProperty("data").ValueKind);
        Assert.Equal("failed", refusal.Status);
        Assert.Equal(expected, refusal.Json.GetProperty("message").GetString());
        Assert.False(refusal.Json.GetProperty("success").GetBoolean());
        var message = JsonSerializer.Serialize(expected, new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        Assert.Equal($"{{\n  \"data\": null,\n  \"status\": \"failed\",\n  \"message\": {message},\n  \"success\": false\n}}", refusal.Text);
    }

    /// <summary>The status of the server's close frame (the client must not have closed first).</summary>
    internal static async Task<WebSocketCloseStatus?> CloseOfAsync(XAgentWebClient client)
    {
        await client.Closed.WaitAsync(TestEnvironment.Timeout);
        return client.CloseStatus;
    }
}
