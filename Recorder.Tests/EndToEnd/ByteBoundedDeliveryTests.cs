using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;
using Recorder.XAgent;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// Delivery is bounded by bytes, not only by raw counts: pages and outboxes smaller than one raw with its picture
/// still bring every raw to every connection once and in order (a page is cut after its first raw and read on from
/// there), and a picture past the inline limit is sent without its data, saying why.
/// </summary>
public sealed class ByteBoundedDeliveryTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    private const int Notebooks = 30;
    private const int PictureBytes = 96 * 1024;
    private const int Resuming = 5;

    [Fact]
    public async Task PagesAndOutboxesSmallerThanOneRawStillDeliverEveryRawOnceInOrderToEveryConnection()
    {
        var name = $"pictures_{Guid.NewGuid():N}";
        await server.ImportAsync(name, await LargePicturesAsync(), Ct);
        await using var instance = await server.StartAsync(
            [new("Recorder:Delivery:PageBytes", "65536"), new("Recorder:Delivery:OutboxBytes", "65536")], Ct);
        var hubUrl = new Uri(new Uri(instance.Urls.First()), RecorderProtocol.HubPath);
        var (user, token) = await server.NewUserAsync();

        await using var first = await PlainClient.ConnectAsync(hubUrl, user, token, name, Ct);
        await first.StartRecorderAsync(Ct);
        await first.Ended.WaitAsync(TestEnvironment.Timeout, Ct);
        var expected = first.Raws.Select(r => r.Seq).ToList();
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), expected);
        Assert.True(expected.Count > Notebooks, $"{expected.Count} raws");

        var clients = await Task.WhenAll(Enumerable.Range(0, Resuming).Select(_ =>
            PlainClient.ConnectAsync(hubUrl, user, token, name, Ct, first.InteractionId)));
        try
        {
            await Task.WhenAll(clients.Select(c => c.ResumeAsync(0, Ct)));
            await Task.WhenAll(clients.Select(c => c.Ended)).WaitAsync(TimeSpan.FromSeconds(20), Ct);
            Assert.All(clients, c => Assert.Equal(expected, c.Raws.Select(r => r.Seq)));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task APictureLargerThanTheInlineLimitIsSentWithoutItsDataAndSaysWhy()
    {
        var name = $"pictures_{Guid.NewGuid():N}";
        await server.ImportAsync(name, await LargePicturesAsync(), Ct);
        await using var instance = await server.StartAsync([new("Recorder:Delivery:MaxInlinePictureBytes", $"{PictureBytes - 1}")], Ct);
        var hubUrl = new Uri(new Uri(instance.Urls.First()), RecorderProtocol.HubPath);
        var (user, token) = await server.NewUserAsync();

        await using var connection = new HubConnectionBuilder()
            .WithUrl(new UriBuilder(hubUrl) { Query = TestQuery.Connect(user, token, name) }.Uri)
            .Build();
        var notebook = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On<JsonElement>("Message", envelope =>
        {
            if (envelope.GetProperty("data") is { ValueKind: JsonValueKind.Object } data && data.TryGetProperty("using_tools", out var tools)
                && tools.GetProperty("tool_name").GetString() == XAgentReplayMapper.NotebookTool)
            {
                notebook.TrySetResult(envelope.Clone());
            }
        });
        await connection.StartAsync(Ct);
        await connection.InvokeAsync("StartRecorder", Ct);

        var output = (await notebook.Task.WaitAsync(TestEnvironment.Timeout)).GetProperty("data").GetProperty("using_tools").GetProperty("tool_output");
        var picture = output.EnumerateArray().Single(o => o.ValueKind == JsonValueKind.Object && o.TryGetProperty("file_name", out _));
        Assert.Equal(JsonValueKind.Null, picture.GetProperty("file_data").ValueKind);
        Assert.Equal($"the file is {PictureBytes} bytes, more than the {PictureBytes - 1} bytes a raw inlines", picture.GetProperty("file_data_omitted").GetString());
    }

    /// <summary>multi_subtask whose notebook call (plot.png) runs <see cref="Notebooks"/> times, plot.png being 96 KiB.</summary>
    private async Task<XAgentRecording> LargePicturesAsync()
    {
        var recording = await XAgentDiskReader.ReadAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"), Ct);
        var notebook = recording.ToolCalls.Single(c => c.ToolName == XAgentReplayMapper.NotebookTool);
        var picture = new byte[PictureBytes];
        Random.Shared.NextBytes(picture);
        return recording with
        {
            ToolCalls = [.. recording.ToolCalls.SelectMany(c => c == notebook ? Enumerable.Repeat(c, Notebooks) : [c])],
            Workspace = [.. recording.Workspace.Select(f => f.Name == "plot.png" ? new WorkspaceFile(f.Name, picture) : f)],
        };
    }
}
