using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// Every refusal docs/protocol.md lists ("Connecting"), word for word, over the query string and over headers, and
/// that a refused connect creates nothing.
/// </summary>
public sealed class RefusalTextTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    private const string Absolute = "recorder_dir must be a path relative to the recordings root, not an absolute path.";
    private const string Segments = "recorder_dir must not contain '..', '.' or empty path segments: it must stay inside the recordings root.";

    public static TheoryData<UserKind, string?, string, string, bool> Cases => new()
    {
        { UserKind.Unknown, null, "multi_subtask", "user is not exist!", true },
        { UserKind.TooLongId, null, "multi_subtask", "user is not exist!", true },
        { UserKind.Deleted, null, "multi_subtask", "user is not exist!", true },
        { UserKind.WrongToken, null, "multi_subtask", "user is not available!", true },
        { UserKind.Unavailable, null, "multi_subtask", "user is not available!", true },
        { UserKind.NotBeta, null, "multi_subtask", "user is not available!", true },
        { UserKind.Valid, "not valid!", "multi_subtask", "client_id must be 1 to 64 characters among letters, digits, '-' and '_'.", true },
        { UserKind.Valid, new string('a', 65), "multi_subtask", "client_id must be 1 to 64 characters among letters, digits, '-' and '_'.", true },
        { UserKind.Valid, null, " ", "recorder_dir is required: name the recording to replay.", true },
        { UserKind.Valid, null, new string('r', 513), "recorder_dir is longer than 512 characters.", true },
        { UserKind.Valid, null, "multi\tsubtask", "recorder_dir must not contain control characters.", false },
        { UserKind.Valid, null, "/etc", Absolute, true },
        { UserKind.Valid, null, "\\etc", Absolute, true },
        { UserKind.Valid, null, "~x", Absolute, true },
        { UserKind.Valid, null, "C:x", Absolute, true },
        { UserKind.Valid, null, "../multi_subtask", Segments, true },
        { UserKind.Valid, null, "./multi_subtask", Segments, true },
        { UserKind.Valid, null, "multi_subtask//x", Segments, true },
        { UserKind.Valid, null, "..\\x", Segments, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EachDocumentedRefusalIsSentInItsOwnWords(UserKind who, string? clientId, string recorderDir, string expected, bool alsoAsHeaders)
    {
        var (userId, token) = await server.UserAsync(who);
        foreach (var useHeaders in alsoAsHeaders ? new[] { false, true } : [false])
        {
            var options = server.ClientOptions(userId, token, recorderDir, clientId) with { UseHeaders = useHeaders };
            var refused = await Assert.ThrowsAsync<RecorderConnectionRefusedException>(() => RecorderClient.ConnectAsync(options, Ct));
            Assert.Equal(expected, refused.Reason);
        }

        Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE user_id = @userId", new { userId }));
    }

    [Fact]
    public async Task WithCheckRunningOffASecondInteractionOfTheSameUserIsAccepted()
    {
        await using var instance = await server.StartAsync([new("Recorder:Auth:CheckRunning", "false")], Ct);
        var hubUrl = new Uri(new Uri(instance.Urls.First()), RecorderProtocol.HubPath);
        var (user, token) = await server.NewUserAsync();

        await using var first = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", hubUrl: hubUrl), Ct);
        await using var second = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask", hubUrl: hubUrl), Ct);

        Assert.NotEqual(first.InteractionId, second.InteractionId);
        Assert.Equal(2, await server.QueryScalarAsync<long>(
            "SELECT count(*) FROM interactions WHERE user_id = @user AND status = 'waiting'", new { user }));

        // The fixture's own instance (the default, on) refuses a third.
        var refused = await Assert.ThrowsAsync<RecorderConnectionRefusedException>(
            () => RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct));
        Assert.Equal("You have a running interaction, please wait for it to finish!", refused.Reason);
    }

    [Fact]
    public async Task OnARefusedConnectionEveryMethodButPingFailsWithAClearErrorUntilTheServerCloses()
    {
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new UriBuilder(server.HubUrl) { Query = TestQuery.Connect("nobody", "x", "multi_subtask") }.Uri)
            .Build();
        var refusal = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On<JsonElement>("Message", envelope => refusal.TrySetResult(envelope));
        var pong = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.On("Pong", () => pong.TrySetResult());
        await connection.StartAsync(Ct);
        Assert.Equal("user is not exist!", (await refusal.Task.WaitAsync(TestEnvironment.Timeout)).GetProperty("message").GetString());

        var start = await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync("StartRecorder", Ct));
        Assert.Contains("this connection is not attached to an interaction.", start.Message, StringComparison.Ordinal);
        var resume = await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync("Resume", "x", 0L, Ct));
        Assert.Contains("this connection is not attached to an interaction.", resume.Message, StringComparison.Ordinal);
        await connection.InvokeAsync("Ping", Ct);
        await pong.Task.WaitAsync(TestEnvironment.Timeout);
    }
}
