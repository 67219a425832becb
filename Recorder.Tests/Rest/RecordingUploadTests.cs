using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Recorder.Client;
using Recorder.Hub.Recordings;
using Recorder.Tests.EndToEnd;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Rest;

public sealed class RecordingUploadTests(UploadHubServer server) : TimedTest, IClassFixture<UploadHubServer>
{
    private static byte[] Zip(Action<ZipArchive> fill)
    {
        using var memory = new MemoryStream();
        using (var archive = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            fill(archive);
        }

        return memory.ToArray();
    }

    private static void AddFile(ZipArchive archive, string name, byte[] content, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var stream = archive.CreateEntry(name, level).Open();
        stream.Write(content);
    }

    /// <summary>A fixture folder zipped, each file under <paramref name="prefix"/>; <paramref name="change"/> may replace a file's bytes.</summary>
    private byte[] ZipFixture(string fixture, string prefix = "", Func<string, byte[], byte[]>? change = null)
    {
        var root = Path.Combine(server.RecordingsRoot, fixture);
        return Zip(archive =>
        {
            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            {
                var name = Path.GetRelativePath(root, file).Replace('\\', '/');
                var bytes = File.ReadAllBytes(file);
                AddFile(archive, prefix + name, change?.Invoke(name, bytes) ?? bytes);
            }
        });
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> UploadAsync(string user, string token, string? recordId, byte[] body)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        using var response = await http.PostAsync(TestQuery.Url(RecordingsApi.Path, user, token, ("record_id", recordId)), content).WaitAsync(TestEnvironment.Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TestEnvironment.Timeout);
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private Task<long> StoredRowsAsync(string recordId) =>
        server.QueryScalarAsync<long>("SELECT count(*) FROM running_record WHERE record_id = @recordId", new { recordId });

    private async Task AssertRefusedAsync(byte[] zip, HttpStatusCode expected, string containing)
    {
        var (user, token) = await server.NewUserAsync();
        var id = $"bad{Guid.NewGuid():N}"[..16];
        var (status, body) = await UploadAsync(user, token, id, zip);
        Assert.Equal(expected, status);
        Assert.Contains(containing, body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await StoredRowsAsync(id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("multi_subtask/")]
    public async Task AnUploadedZipReplaysLikeItsFolder(string prefix)
    {
        var (user, token) = await server.NewUserAsync();
        var id = $"up{Guid.NewGuid():N}"[..16];
        var (status, body) = await UploadAsync(user, token, id, ZipFixture("multi_subtask", prefix));

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(id, body.GetProperty("record_id").GetString());
        Assert.True(body.GetProperty("records").GetInt32() > 0);
        Assert.Equal(body.GetProperty("records").GetInt32(), await StoredRowsAsync(id));

        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, id), Ct);
        var messages = await Replays.RunToEndAsync(client);
        Replays.AssertGapFreeFromOne(messages);
        Assert.Equal(await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask")), messages.Select(m => m.Status));
    }

    [Theory]
    [InlineData("../evil.txt")]
    [InlineData("a/../../evil.txt")]
    [InlineData("/etc/evil.txt")]
    [InlineData("C:/evil.txt")]
    [InlineData("a\\..\\..\\evil.txt")]
    public Task AZipSlipEntryIsRefused(string entry) =>
        AssertRefusedAsync(Zip(a => AddFile(a, entry, "x"u8.ToArray())), HttpStatusCode.BadRequest, "not a plain relative path");

    [Fact]
    public Task ASymbolicLinkIsRefused() =>
        AssertRefusedAsync(Zip(a =>
        {
            var link = a.CreateEntry("workspace/link");
            link.ExternalAttributes = unchecked((int)0xA1FF0000); // S_IFLNK | 0777
            using var stream = link.Open();
            stream.Write("/etc/passwd"u8);
        }), HttpStatusCode.BadRequest, "symbolic link");

    [Fact]
    public Task ABodyOverTheCapIsRefusedWith413() =>
        AssertRefusedAsync(Zip(a => AddFile(a, "big.bin", RandomBytes((int)UploadHubServer.MaxUploadBytes + 1000), CompressionLevel.NoCompression)),
            HttpStatusCode.RequestEntityTooLarge, "MaxUploadBytes");

    [Fact]
    public Task AZipThatExpandsPastTheCapIsRefusedWith413() =>
        AssertRefusedAsync(Zip(a => AddFile(a, "zeros.bin", new byte[(int)UploadHubServer.MaxExpandedBytes + 1])), HttpStatusCode.RequestEntityTooLarge, "MaxExpandedBytes");

    [Fact]
    public Task TooManyEntriesAreRefusedWith413() =>
        AssertRefusedAsync(Zip(a =>
        {
            for (var i = 0; i <= UploadHubServer.MaxEntries; i++)
            {
                AddFile(a, $"f{i}.txt", [1]);
            }
        }), HttpStatusCode.RequestEntityTooLarge, "MaxEntries");

    [Fact]
    public Task ABodyThatIsNotAZipIsRefused() =>
        AssertRefusedAsync(Encoding.UTF8.GetBytes("this is not a zip archive at all"), HttpStatusCode.BadRequest, "not a zip archive");

    [Fact]
    public Task AZipWithoutARecordingFolderIsRefused() =>
        AssertRefusedAsync(Zip(a => AddFile(a, "readme.txt", "hello"u8.ToArray())), HttpStatusCode.BadRequest, "query.json");

    [Fact]
    public Task ARecordingThatDoesNotParseIsRefusedNamingTheFile() =>
        AssertRefusedAsync(ZipFixture("multi_subtask", change: (name, bytes) => name == "query.json" ? "{not json"u8.ToArray() : bytes),
            HttpStatusCode.BadRequest, "query.json");

    [Fact]
    public async Task AFailedUploadLeavesAnEarlierImportOfTheSameIdAsItWas()
    {
        var (user, token) = await server.NewUserAsync();
        var id = $"keep{Guid.NewGuid():N}"[..16];
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(user, token, id, ZipFixture("multi_subtask"))).Status);
        var before = await StoredRowsAsync(id);

        var (status, _) = await UploadAsync(user, token, id, ZipFixture("multi_subtask", change: (name, bytes) => name == "query.json" ? "[]"u8.ToArray() : bytes));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(before, await StoredRowsAsync(id));
    }

    [Fact]
    public async Task AWrongTokenOrAMissingRecordIdIsRefusedAndStoresNothing()
    {
        var (user, token) = await server.NewUserAsync();
        var id = $"auth{Guid.NewGuid():N}"[..16];
        var zip = ZipFixture("multi_subtask");

        Assert.Equal(HttpStatusCode.Unauthorized, (await UploadAsync(user, "wrong", id, zip)).Status);
        var (status, body) = await UploadAsync(user, token, null, zip);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("record_id", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        var (badId, badBody) = await UploadAsync(user, token, "../x", zip);
        Assert.Equal(HttpStatusCode.BadRequest, badId);
        Assert.Contains("record_id '../x'", badBody.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await StoredRowsAsync(id));
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
