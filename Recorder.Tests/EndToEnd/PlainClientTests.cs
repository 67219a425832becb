using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// A paced hub whose run lasts about 28 seconds: long enough to drop the connection a hundred times even on a
/// loaded 2-core machine. One reconnect (negotiate, WebSocket, handshake, connect, Resume) took ~55 ms in an early CI
/// run, but ~200 ms in a clean-clone run on 2026-12-04 (71 in a 14-second run), so the run is twice that long now.
/// </summary>
public sealed class LongPacedHubServer : PacedHubServer
{
    public override TimeSpan Gap => TimeSpan.FromSeconds(4);

    // Hundreds of reconnects of one user in seconds: far past the default connect limit (120 requests a minute).
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [.. base.Settings, new("Recorder:Auth:ConnectsPerUserPerMinute", "100000")];
}

/// <summary>
/// The delivery guarantee as a plain SignalR client sees it: no dedupe, no reorder buffer, one <c>Resume(id, lastSeq)</c>
/// after each reconnect, and every seq arrives exactly once, in order.
/// </summary>
public sealed class PlainClientTests(LongPacedHubServer server) : TimedTest(TestEnvironment.Timeout * 2), IClassFixture<LongPacedHubServer>
{
    [Fact]
    public async Task APlainClientReconnectedAHundredTimesDuringAPacedReplaySeesEverySeqOnceInOrder()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await PlainClient.ConnectAsync(server.HubUrl, user, token, PacedHubServer.Recording, Ct);
        await client.StartRecorderAsync(Ct);

        // Drop the connection at random moments for as long as the run goes (at least a hundred times, see below).
        var random = new Random(5);
        var reconnectsWhileRunning = 0;
        while (!client.Ended.IsCompleted && reconnectsWhileRunning < 1_000)
        {
            await Task.Delay(random.Next(0, 40), Ct);
            await client.ReconnectAsync(server.HubUrl, Ct);
            if (!client.Ended.IsCompleted)
            {
                reconnectsWhileRunning++;
            }
        }

        await client.Ended.WaitAsync(TestEnvironment.Timeout, Ct);
        var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), client.Raws.Select(r => r.Seq));
        Assert.Equal(expected, client.Raws.Select(r => r.Status));

        // The run was interrupted a hundred times, not reconnected after it had ended.
        Assert.True(reconnectsWhileRunning >= 100, $"only {reconnectsWhileRunning} of the 100 reconnects happened while the run was going");
    }

    [Fact]
    public async Task ResumeOnTheSameConnectionSendsExactlyTheRawsAfterItsSeqOnceMore()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await PlainClient.ConnectAsync(server.HubUrl, user, token, "multi_subtask", Ct);
        await client.StartRecorderAsync(Ct);
        await client.Ended.WaitAsync(TestEnvironment.Timeout * 2, Ct);
        var all = client.Raws.Select(r => r.Seq).ToList();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all);

        await client.ResumeAsync(5, Ct);

        List<long> expected = [.. all, .. all.Where(seq => seq > 5)];
        await Eventually.UntilAsync(() => Task.FromResult(client.Raws.Count), n => n >= expected.Count, TestEnvironment.Timeout, "the raws after seq 5 again");
        Assert.Equal(expected, client.Raws.Select(r => r.Seq));

        // An observation window, not a wait for a condition: a repeat would arrive within it.
        await Task.Delay(TimeSpan.FromMilliseconds(300), Ct);
        Assert.Equal(expected, client.Raws.Select(r => r.Seq));
    }
}
