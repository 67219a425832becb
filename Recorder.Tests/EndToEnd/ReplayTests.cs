using System.Text.Json;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;
using Recorder.XAgent;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;

namespace Recorder.Tests.EndToEnd;

public sealed class ReplayTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    [Theory]
    [InlineData(RecorderWireProtocol.Json)]
    [InlineData(RecorderWireProtocol.MessagePack)]
    public async Task MultiSubtaskRecordingReplaysEveryRawOnceInSeqOrder(RecorderWireProtocol protocol)
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", protocol: protocol), Ct);

        Assert.Equal(RecorderStatus.Connect, client.Connected.Status);
        Assert.Equal("connect success", client.Connected.Message);
        var interaction = client.Connected.Data!.Value;
        Assert.Equal(client.InteractionId, interaction.GetProperty("interaction_id").GetString());
        Assert.Equal("waiting", interaction.GetProperty("status").GetString());
        Assert.Equal("recorder", interaction.GetProperty("call_method").GetString());
        Assert.Equal("XAgent Recorder", interaction.GetProperty("description").GetString());
        Assert.Equal("multi_subtask", interaction.GetProperty("recorder_root_dir").GetString()); // relative: no server path

        var messages = await Replays.RunToEndAsync(client);

        Replays.AssertGapFreeFromOne(messages);
        var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));
        Assert.Equal(expected, messages.Select(m => m.Status));
        Assert.All(messages, m => Assert.Equal(client.InteractionId, m.InteractionId));
        Assert.All(messages, m => Assert.Equal("success", m.Message));
        Assert.Equal(1, messages.Count(m => m.IsTerminal));
        Assert.All(messages.Where(m => m.Status is RecorderStatus.Inner or RecorderStatus.SubtaskSubmit),
            m => Assert.Equal(m.Data!.Value.GetProperty("node_id").GetString(), m.NodeId));
        Assert.Equal(messages.Count, messages.Select(m => m.NodeId).Distinct().Count());
        Assert.Equal("finished", await server.QueryScalarAsync<string>("SELECT status FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId }));
        await Eventually.UntilAsync(
            () => server.QueryScalarAsync<long>("SELECT count(*) FROM raw WHERE interaction_id = @id AND NOT is_send", new { id = client.InteractionId }),
            unsent => unsent == 0, TestEnvironment.Timeout, "every raw marked sent");
    }

    [Fact]
    public async Task TheDemoRecordingReplaysEndToEnd()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "demo"), Ct);
        var messages = await Replays.RunToEndAsync(client);

        Replays.AssertGapFreeFromOne(messages);
        Assert.Equal(await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "demo")), messages.Select(m => m.Status));
        var workspace = Directory.EnumerateFiles(Path.Combine(server.RecordingsRoot, "demo", "workspace"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Path.Combine(server.RecordingsRoot, "demo", "workspace"), f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
        Assert.Equal(workspace, messages[^1].WorkspaceFileList!.Select(f => f.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AMessagePackClientReceivesTheSameEnvelopesAsAJsonClient()
    {
        var (user, token) = await server.NewUserAsync();
        List<RecorderEnvelope> overJson;
        string interactionId;
        await using (var json = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct))
        {
            overJson = await Replays.RunToEndAsync(json);
            interactionId = json.InteractionId;
        }

        // Re-attach to the finished interaction over MessagePack: the same raws again, pictures and file lists included.
        await using var msgpack = await RecorderClient.ConnectAsync(
            server.ClientOptions(user, token, "multi_subtask", interactionId, protocol: RecorderWireProtocol.MessagePack), Ct);
        var overMessagePack = await Replays.ReadAllAsync(msgpack, Ct);

        Assert.Contains(overJson, m => m.Data is { ValueKind: JsonValueKind.Object } d && d.GetRawText().Contains("file_data", StringComparison.Ordinal));
        Assert.Equal(
            overJson.Select(m => JsonSerializer.Serialize(m, RecorderProtocol.JsonOptions)),
            overMessagePack.Select(m => JsonSerializer.Serialize(m, RecorderProtocol.JsonOptions)));
    }

    [Fact]
    public async Task PicturesOfTheWorkspaceAreInlinedAndListed()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        var messages = await Replays.RunToEndAsync(client);

        var picture = await File.ReadAllBytesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask", "workspace", "plot.png"));
        var notebook = messages.Single(m => m.Data is { ValueKind: JsonValueKind.Object } d
            && d.TryGetProperty("using_tools", out var tools) && tools.ValueKind == JsonValueKind.Object
            && tools.GetProperty("tool_name").GetString() == XAgentReplayMapper.NotebookTool
            && tools.TryGetProperty("is_include_pictures", out _));
        var usingTools = notebook.Data!.Value.GetProperty("using_tools");
        Assert.True(usingTools.GetProperty("is_include_pictures").GetBoolean());
        var output = usingTools.GetProperty("tool_output");
        if (output.ValueKind == JsonValueKind.String)
        {
            output = JsonDocument.Parse(output.GetString()!).RootElement;
        }

        var items = output.EnumerateArray().ToList();
        var withPicture = items.Single(i => i.ValueKind == JsonValueKind.Object && i.TryGetProperty("file_name", out var name) && name.GetString() == "plot.png");
        Assert.Equal(Convert.ToBase64String(picture), withPicture.GetProperty("file_data").GetString());

        var last = messages[^1];
        Assert.Contains(new WorkspaceFileEntry("plot.png", "png"), last.WorkspaceFileList!);
    }

    [Fact]
    public async Task UnknownRecordingEndsWithOneFailedRawNamingIt()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "no_such_recording"), Ct);
        var messages = await Replays.RunToEndAsync(client);

        Assert.Equal([RecorderStatus.Running, RecorderStatus.Failed], messages.Select(m => m.Status));
        Assert.Contains("no_such_recording", messages[1].Message, StringComparison.Ordinal);
        Assert.Equal(messages[1].Message, messages[1].Data!.Value.GetString());
        Assert.Equal("failed", await server.QueryScalarAsync<string>("SELECT status FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId }));
    }

    [Fact]
    public async Task UnreadableRecordingFailsWithAMessageNamingTheFile()
    {
        var folder = Path.Combine(server.RecordingsRoot, "broken_tool");
        var reason = (await Assert.ThrowsAsync<RecordingFormatException>(
            () => XAgentDiskReader.ReadAsync(folder, CancellationToken.None))).Message;

        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "broken_tool"), Ct);
        var messages = await Replays.RunToEndAsync(client);

        Assert.Equal(RecorderStatus.Failed, messages[^1].Status);
        Assert.Equal(reason, messages[^1].Message);
        Assert.Contains("tool_", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFileNestedDeeperThanTheLimitFailsItsRunNamingTheFileAndTheLimit()
    {
        var name = $"deep_{Guid.NewGuid():N}";
        var folder = Path.Combine(server.RecordingsRoot, name);
        CopyFolder(Path.Combine(server.RecordingsRoot, "multi_subtask"), folder);
        var tool = Path.Combine(folder, "1.2", "tool_00000.json");
        var record = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(tool, Ct))!;
        record["tool_output"] = System.Text.Json.Nodes.JsonNode.Parse(string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100),
            documentOptions: new JsonDocumentOptions { MaxDepth = 200 });
        await File.WriteAllTextAsync(tool, record.ToJsonString(new JsonSerializerOptions { MaxDepth = 200 }), Ct);

        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, name), Ct);
        var messages = await Replays.RunToEndAsync(client);

        Assert.Equal([RecorderStatus.Running, RecorderStatus.Failed], messages.Select(m => m.Status));
        Assert.StartsWith("1.2/tool_00000.json: nested deeper than 60 levels", messages[^1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.RecordingsRoot, messages[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARunningRecordRowNestedDeeperThanTheLimitFailsItsRunNamingTheRowAndTheLimit()
    {
        var name = $"deep_rows_{Guid.NewGuid():N}";
        await server.ImportAsync(name, "multi_subtask", Ct);
        var row = await server.QueryScalarAsync<long>(
            "SELECT min(id) FROM running_record WHERE record_id = @name AND node_type = 'tool_call'", new { name });
        await using (var connection = await server.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await Dapper.SqlMapper.ExecuteAsync(connection,
                "UPDATE running_record SET data = jsonb_set(data, '{tool_output}', (repeat('[', 100) || '1' || repeat(']', 100))::jsonb) WHERE id = @row",
                new { row });
        }

        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, name), Ct);
        var messages = await Replays.RunToEndAsync(client);

        Assert.Equal([RecorderStatus.Running, RecorderStatus.Failed], messages.Select(m => m.Status));
        Assert.StartsWith($"running_record row {row}: its data is nested deeper than 60 levels", messages[^1].Message, StringComparison.Ordinal);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Fact]
    public async Task ImportedRecordingReplaysLikeItsFolder()
    {
        var folder = Path.Combine(server.RecordingsRoot, "multi_subtask");
        await server.ImportAsync("imported_multi", "multi_subtask", Ct);

        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "imported_multi"), Ct);
        var messages = await Replays.RunToEndAsync(client);

        Assert.Equal(await Replays.ExpectedStatusesAsync(folder), messages.Select(m => m.Status));
        Assert.Contains(new WorkspaceFileEntry("plot.png", "png"), messages[^1].WorkspaceFileList!);
    }

    [Fact]
    public async Task ARecordingOfSeveralHundredRawsReachesAPlainClientOnceInOrderAcrossPagesAndGroups()
    {
        // multi_subtask with each subtask's tool calls (but its submit) 150 times over: several delivery pages (256)
        // and many write groups (64 steps), replayed at speed 0 to a client without any ordering code.
        var recording = await XAgentDiskReader.ReadAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"), Ct);
        var longer = recording with
        {
            ToolCalls = [.. recording.ToolCalls.GroupBy(c => c.Current, StringComparer.Ordinal).SelectMany(subtask =>
                Enumerable.Repeat(subtask.Where(c => c.ToolName != XAgentReplayMapper.SubmitTool), 150).SelectMany(calls => calls)
                    .Concat(subtask.Where(c => c.ToolName == XAgentReplayMapper.SubmitTool)))],
        };
        var name = $"long_{Guid.NewGuid():N}";
        await server.ImportAsync(name, longer, Ct);
        var expected = XAgentReplayMapper.ToRecording(name, longer).Steps.Count + 2; // + running and finished
        Assert.True(expected > 500, $"only {expected} raws");

        var (user, token) = await server.NewUserAsync();
        await using var client = await PlainClient.ConnectAsync(server.HubUrl, user, token, name, Ct);
        await client.StartRecorderAsync(Ct);
        await client.Ended.WaitAsync(TestEnvironment.Timeout, Ct);

        Assert.Equal(Enumerable.Range(1, expected).Select(i => (long)i), client.Raws.Select(r => r.Seq));
        Assert.Equal(RecorderStatus.Finished, client.Raws[^1].Status);
    }

    [Fact]
    public async Task APastInteractionReplaysItsRaws()
    {
        var (user, token) = await server.NewUserAsync();
        List<RecorderEnvelope> original;
        string pastId;
        await using (var first = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct))
        {
            original = await Replays.RunToEndAsync(first);
            pastId = first.InteractionId;
        }

        await using var again = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, pastId), Ct);
        var replayed = await Replays.RunToEndAsync(again);

        Assert.NotEqual(pastId, again.InteractionId);
        Assert.Equal(original.Select(m => m.Status), replayed.Select(m => m.Status));
        Assert.Equal(original.Select(m => m.Current), replayed.Select(m => m.Current));
        Assert.Equal(
            original.Where(m => m.Status == RecorderStatus.Start).Select(m => m.Data!.Value.GetRawText()),
            replayed.Where(m => m.Status == RecorderStatus.Start).Select(m => m.Data!.Value.GetRawText()));
    }

    [Fact]
    public async Task APastInteractionWithARawTooDeepToReadFailsItsReplayNamingTheRaw()
    {
        var (user, token) = await server.NewUserAsync();
        string pastId;
        await using (var first = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct))
        {
            await Replays.RunToEndAsync(first);
            pastId = first.InteractionId;
        }

        await using (var connection = await server.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await Dapper.SqlMapper.ExecuteAsync(connection,
                "UPDATE raw SET data = (repeat('{\"a\":', 100) || '1' || repeat('}', 100))::jsonb WHERE interaction_id = @pastId AND seq = 3",
                new { pastId });
        }

        await using var again = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, pastId), Ct);
        var replayed = await Replays.RunToEndAsync(again);

        Assert.Equal([RecorderStatus.Running, RecorderStatus.Failed], replayed.Select(m => m.Status));
        Assert.StartsWith($"past interaction '{pastId}', raw 3: its data is nested deeper than 60 levels", replayed[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherUsersPastInteractionIsNotARecording()
    {
        var (owner, ownerToken) = await server.NewUserAsync();
        string pastId;
        await using (var first = await RecorderClient.ConnectAsync(server.ClientOptions(owner, ownerToken, "multi_subtask"), Ct))
        {
            await Replays.RunToEndAsync(first);
            pastId = first.InteractionId;
        }

        var (other, otherToken) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(other, otherToken, pastId), Ct);
        var messages = await Replays.RunToEndAsync(client);
        Assert.Equal([RecorderStatus.Running, RecorderStatus.Failed], messages.Select(m => m.Status));
    }

    [Fact]
    public async Task StartRecorderTwiceRunsOnce()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        await client.StartRecorderAsync(Ct);
        await client.StartRecorderAsync(Ct);
        var messages = await Replays.ReadAllAsync(client, Ct);
        await client.StartRecorderAsync(Ct);

        Assert.Equal(1, messages.Count(m => m.Status == RecorderStatus.Running));
        var statuses = await server.QueryAsync<string>("SELECT status FROM raw WHERE interaction_id = @id ORDER BY seq", new { id = client.InteractionId });
        Assert.Equal(messages.Select(m => m.Status), statuses);
    }

    [Fact]
    public async Task PingIsAnsweredWithPong()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct);
        // The server's own Pong (every 20 s) may come too: the answer is one more than there were before the Ping.
        var before = client.Pongs;
        await client.PingAsync(Ct);
        await Eventually.UntilAsync(() => Task.FromResult(client.Pongs), n => n > before, TestEnvironment.Timeout, "a pong");
    }

    [Fact]
    public async Task QueryStringConnectWorksLikeHeaders()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(
            server.ClientOptions(user, token, "multi_subtask") with { UseHeaders = false }, Ct);
        var messages = await Replays.RunToEndAsync(client);
        Assert.Equal(RecorderStatus.Finished, messages[^1].Status);
    }
}
