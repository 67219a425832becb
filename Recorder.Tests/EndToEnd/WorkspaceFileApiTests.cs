using System.Net;
using System.Text;
using System.Text.Json;
using Recorder.Client;
using Recorder.Tests.Infrastructure;
using Recorder.XAgent;
using Recorder.XAgent.Disk;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// <c>POST /api/workspace/file</c> as the workspace panel of XAgent's web UI calls it: each kind of file in the
/// original's reply, each failure in its words, and names that try to leave the workspace.
/// </summary>
public sealed class WorkspaceFileApiTests(HubServer server) : TimedTest, IClassFixture<HubServer>, IAsyncLifetime
{
    private const string Recording = "workspace_kinds";
    private static readonly byte[] Pdf = Encoding.ASCII.GetBytes("%PDF-1.4\n% not really a document\n");
    private static readonly byte[] Binary = [0xFF, 0xFE, 0x00, 0x81];

    private readonly HttpClient _http = new();
    private string _user = "";
    private string _token = "";
    private string _interaction = "";

    /// <summary>A replay of multi_subtask whose workspace also holds a JSON file (with Chinese text), a pdf, a notebook and bytes that are not text.</summary>
    public async Task InitializeAsync()
    {
        _http.BaseAddress = server.BaseUrl;
        var recording = await XAgentDiskReader.ReadAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"), Ct);
        await server.ImportAsync(Recording, recording with
        {
            Workspace =
            [
                .. recording.Workspace,
                new WorkspaceFile("out/result.json", Encoding.UTF8.GetBytes("""{"名称":"结果","values":[1,2],"empty":{},"nested":{"ok":true}}""")),
                new WorkspaceFile("broken.json", Encoding.UTF8.GetBytes("{not json")),
                new WorkspaceFile("paper.pdf", Pdf),
                new WorkspaceFile("run.ipynb", Encoding.UTF8.GetBytes("""{"cells": []}""")),
                new WorkspaceFile("blob.bin", Binary),
            ],
        }, Ct);
        (_user, _token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(_user, _token, Recording), Ct);
        await Replays.RunToEndAsync(client);
        _interaction = client.InteractionId;
    }

    public Task DisposeAsync()
    {
        _http.Dispose();
        return Task.CompletedTask;
    }

    private async Task<(HttpStatusCode Status, string Text, string? MediaType, byte[] Bytes)> PostAsync(
        string? fileName, string? user = null, string? token = null, string? interaction = null)
    {
        var fields = new Dictionary<string, string>
        {
            ["user_id"] = user ?? _user,
            ["token"] = token ?? _token,
            ["interaction_id"] = interaction ?? _interaction,
        };
        if (fileName is not null)
        {
            fields["file_name"] = fileName;
        }

        using var form = new MultipartFormDataContent();
        foreach (var (key, value) in fields)
        {
            form.Add(new StringContent(value), key);
        }

        using var response = await _http.PostAsync(new Uri("/api/workspace/file", UriKind.Relative), form, Ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(Ct);
        return (response.StatusCode, Encoding.UTF8.GetString(bytes), response.Content.Headers.ContentType?.MediaType, bytes);
    }

    private static JsonElement Reply(string text)
    {
        var reply = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(["data", "success", "message"], reply.EnumerateObject().Select(p => p.Name));
        return reply;
    }

    private static void AssertFailure((HttpStatusCode Status, string Text, string? MediaType, byte[] Bytes) response, HttpStatusCode status, string message)
    {
        Assert.Equal(status, response.Status);
        var reply = Reply(response.Text);
        Assert.Equal(JsonValueKind.Null, reply.GetProperty("data").ValueKind);
        Assert.False(reply.GetProperty("success").GetBoolean());
        Assert.Equal(message, reply.GetProperty("message").GetString());
    }

    [Fact]
    public async Task APictureIsADataUrlOfItsBytes()
    {
        var picture = await File.ReadAllBytesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask", "workspace", "plot.png"));
        var response = await PostAsync("plot.png");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var reply = Reply(response.Text);
        Assert.Equal($"data:image/png;base64,{Convert.ToBase64String(picture)}", reply.GetProperty("data").GetString());
        Assert.True(reply.GetProperty("success").GetBoolean());
        Assert.Equal("get file success!", reply.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AJsonFileIsPrettyPrintedWithFourSpacesAndItsTextKept()
    {
        var reply = Reply((await PostAsync("out/result.json")).Text);

        Assert.True(reply.GetProperty("success").GetBoolean());
        Assert.Equal("""
            {
                "名称": "结果",
                "values": [
                    1,
                    2
                ],
                "empty": {},
                "nested": {
                    "ok": true
                }
            }
            """.ReplaceLineEndings("\n"), reply.GetProperty("data").GetString());
    }

    [Fact]
    public async Task TextIsSentAsItIsAndAJsonFileThatIsNotJsonAsItsText()
    {
        var notes = await File.ReadAllTextAsync(Path.Combine(server.RecordingsRoot, "multi_subtask", "workspace", "notes.txt"));
        Assert.Equal(notes, Reply((await PostAsync("notes.txt")).Text).GetProperty("data").GetString());
        Assert.Equal("{not json", Reply((await PostAsync("broken.json")).Text).GetProperty("data").GetString());
    }

    [Fact]
    public async Task DocumentsAndNotebooksAreTheFileItselfWithTheOriginalsMediaType()
    {
        var pdf = await PostAsync("paper.pdf");
        Assert.Equal(HttpStatusCode.OK, pdf.Status);
        Assert.Equal("application/pdf", pdf.MediaType);
        Assert.Equal(Pdf, pdf.Bytes);

        var notebook = await PostAsync("run.ipynb");
        Assert.Equal("application/ipynb", notebook.MediaType);
        Assert.Equal("""{"cells": []}""", notebook.Text);
    }

    [Fact]
    public async Task BytesThatAreNotTextGetAClearFailure() =>
        AssertFailure(await PostAsync("blob.bin"), HttpStatusCode.OK, "file is not UTF-8 text: blob.bin");

    [Fact]
    public async Task EachFailureIsInTheOriginalsWords()
    {
        AssertFailure(await PostAsync("plot.png", user: $"nobody-{Guid.NewGuid():N}"), HttpStatusCode.Unauthorized, "user is not exist!");
        AssertFailure(await PostAsync("plot.png", token: _token + "-wrong"), HttpStatusCode.Unauthorized, "user is not available!");
        AssertFailure(await PostAsync("plot.png", interaction: Guid.NewGuid().ToString("N")), HttpStatusCode.OK, "interaction is not exist!");
        AssertFailure(await PostAsync("plot.png", interaction: "../x"), HttpStatusCode.OK, "interaction is not exist!");
        AssertFailure(await PostAsync("no_such_file.png"), HttpStatusCode.OK, "file is not exist!");
        AssertFailure(await PostAsync(null), HttpStatusCode.OK, "file is not exist!");

        // Another user's interaction does not exist for this one.
        var (other, otherToken) = await server.NewUserAsync();
        AssertFailure(await PostAsync("plot.png", user: other, token: otherToken), HttpStatusCode.OK, "interaction is not exist!");
    }

    [Theory]
    [InlineData("../multi_subtask/query.json")]
    [InlineData("/etc/passwd")]
    [InlineData("..\\plot.png")]
    [InlineData("out/../plot.png")]
    [InlineData("./plot.png")]
    [InlineData("out//result.json")]
    [InlineData("plot.png\0.txt")]
    public async Task ANameThatLeavesOrBendsTheWorkspaceIsNotAFileOfIt(string fileName) =>
        AssertFailure(await PostAsync(fileName), HttpStatusCode.OK, "file is not exist!");

    [Fact]
    public async Task ARequestWithoutAFormGetsAClearError()
    {
        using var response = await _http.PostAsync(new Uri("/api/workspace/file", UriKind.Relative),
            new StringContent("""{"user_id":"x"}""", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var reply = Reply(await response.Content.ReadAsStringAsync(Ct));
        Assert.Contains("form fields", reply.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
