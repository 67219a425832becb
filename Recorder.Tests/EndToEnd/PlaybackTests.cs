using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A paced hub (steps <see cref="Gap"/> apart at speed 1) whose clients may choose speeds between 0.25 and 8.</summary>
public sealed class PlaybackHubServer : PacedHubServer
{
    public override TimeSpan Gap => TimeSpan.FromMilliseconds(250);

    public override TimeSpan DisconnectGrace => TimeSpan.FromSeconds(5);

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [
            .. base.Settings, new("Recorder:Replay:MinSpeed", "0.25"), new("Recorder:Replay:MaxSpeed", "8"),
            new("Recorder:Replay:MaxGap", "00:00:05"), // a slow speed stretches the steps past the base's cap of one Gap
        ];
}

/// <summary>
/// Playback control (issue 11): pause holds back every raw until play, a speed change changes the pacing, the
/// control works from the instance that does not run the replay, a takeover keeps a paused run paused, bad inputs
/// are refused with a clear text and change nothing. Timings are asserted loosely (the figures are the bench's).
/// </summary>
public sealed class PlaybackTests(PlaybackHubServer server) : TimedTest, IClassFixture<PlaybackHubServer>
{
    private static readonly TimeSpan PauseWatched = TimeSpan.FromSeconds(1.2);

    private static Uri HubUrlOf(WebApplication app) => new(new Uri(app.Urls.First()), RecorderProtocol.HubPath);

    [Fact]
    public async Task PauseHoldsBackEveryRawUntilPlayAndEveryConnectionSeesTheControlEnvelopes()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording), Ct);
        await using var tab = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording, client.InteractionId), Ct);
        var clientControl = new ControlLog(client);
        var tabControl = new ControlLog(tab);
        var reading = Arrivals.ReadAsync(client, Ct);
        await client.StartRecorderAsync(Ct);
        await reading.UntilSeqAsync(2);

        await client.PauseAsync(Ct);
        var paused = await clientControl.NextAsync(RecorderStatus.Paused);
        await tabControl.NextAsync(RecorderStatus.Paused);
        Assert.True(paused.Data.GetProperty("paused").GetBoolean());
        Assert.Equal(1.0, paused.Data.GetProperty("speed").GetDouble());

        // At 250 ms a step the run would write about five raws while it is watched; paused, it writes none.
        var lastSeqAtPause = await LastSeqAsync(client.InteractionId);
        // The span a paused run is observed for, not a wait for a condition. Task.Delay alone may end a few ms short of
        // it (the timers run on a coarse tick: 115 of 200 delays of 1.2 s ended up to 4.6 ms early here), so the
        // stopwatch says when it has passed.
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < PauseWatched)
        {
            await Task.Delay(PauseWatched - watch.Elapsed + TimeSpan.FromMilliseconds(5), Ct);
        }

        Assert.Equal(lastSeqAtPause, await LastSeqAsync(client.InteractionId));
        Assert.DoesNotContain(reading.Snapshot(), a => a.At > paused.At + TimeSpan.FromMilliseconds(100));

        await tab.PlayAsync(Ct); // from the other tab: both see it
        var playing = await clientControl.NextAsync(RecorderStatus.Playing);
        await tabControl.NextAsync(RecorderStatus.Playing);
        Assert.False(playing.Data.GetProperty("paused").GetBoolean());

        var all = await reading.Completion.WaitAsync(TestEnvironment.Timeout);
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(a => a.Envelope.Seq));
        Assert.Equal(RecorderStatus.Finished, all[^1].Envelope.Status);
        Assert.Equal(0L, paused.Envelope.Seq);
    }

    [Fact]
    public async Task AConnectionThatAttachesToAPausedRunLearnsThatItIsPausedAfterTheRawsSoFar()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording), Ct);
        var clientControl = new ControlLog(client);
        var reading = Arrivals.ReadAsync(client, Ct);
        await client.StartRecorderAsync(Ct);
        await reading.UntilSeqAsync(2);
        await client.SetSpeedAsync(2, Ct);
        await clientControl.NextAsync(RecorderStatus.Playing);
        await client.PauseAsync(Ct);
        var paused = await clientControl.NextAsync(RecorderStatus.Paused);
        var lastSeq = await LastSeqAsync(client.InteractionId);

        // A tab opened later gets the raws written so far, then the playback as it is now: paused, at 2x.
        await using var late = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording, client.InteractionId), Ct);
        var state = await Eventually.UntilAsync(() => Task.FromResult(late.Playback), p => p is not null, TestEnvironment.Timeout, "the late tab's playback");
        Assert.Equal(RecorderStatus.Paused, state!.Status);
        Assert.True(state.Data!.Value.GetProperty("paused").GetBoolean());
        Assert.Equal(2.0, state.Data!.Value.GetProperty("speed").GetDouble());
        Assert.Equal(paused.Data.GetProperty("control_version").GetInt64(), state.Data!.Value.GetProperty("control_version").GetInt64());
        Assert.Equal(lastSeq, await LastSeqAsync(client.InteractionId)); // nothing was written while paused
        await client.PlayAsync(Ct);
        await clientControl.NextAsync(RecorderStatus.Playing);
    }

    [Fact]
    public async Task ASpeedChangeRescalesThePacingAndTheConnectSpeedIsStored()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording) with { Speed = 0.5 }, Ct);
        Assert.Equal(0.5, await server.QueryScalarAsync<double>("SELECT replay_speed FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId }));
        var control = new ControlLog(client);
        var reading = Arrivals.ReadAsync(client, Ct);
        await client.StartRecorderAsync(Ct);
        await reading.UntilSeqAsync(4);

        await client.SetSpeedAsync(8, Ct);
        var playing = await control.NextAsync(RecorderStatus.Playing);
        Assert.Equal(8.0, playing.Data.GetProperty("speed").GetDouble());
        var changedAt = playing.At;

        var all = await reading.Completion.WaitAsync(TestEnvironment.Timeout);
        Assert.Equal(RecorderStatus.Finished, all[^1].Envelope.Status);
        var slow = Gaps(all.Where(a => a.Envelope.Seq is >= 2 and <= 4));
        var fast = Gaps(all.Where(a => a.At > changedAt + TimeSpan.FromMilliseconds(100)));
        Assert.NotEmpty(fast);

        // 500 ms a step at 0.5, about 31 ms at 8: asserted only as "several times faster".
        Assert.True(Median(slow) > 3 * Median(fast), $"gaps at 0.5: {string.Join(", ", slow)}; at 8: {string.Join(", ", fast)}");
        Assert.True(Median(slow) >= TimeSpan.FromMilliseconds(350), $"gaps at 0.5: {string.Join(", ", slow)}");
    }

    [Fact]
    public async Task ControlFromTheInstanceThatDoesNotRunTheReplayReachesTheRunAndEveryConnection()
    {
        await using var other = await server.StartAsync([new("Recorder:Runs:MaxConcurrentRuns", "0")], Ct);
        var (user, token) = await server.NewUserAsync();
        await using var runnerSide = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording), Ct);
        await using var otherSide = await RecorderClient.ConnectAsync(
            server.ClientOptions(user, token, PacedHubServer.Recording, runnerSide.InteractionId, HubUrlOf(other)), Ct);
        var runnerControl = new ControlLog(runnerSide);
        var otherControl = new ControlLog(otherSide);
        var reading = Arrivals.ReadAsync(runnerSide, Ct);
        await runnerSide.StartRecorderAsync(Ct);
        await reading.UntilSeqAsync(2);

        await otherSide.PauseAsync(Ct);
        var paused = await runnerControl.NextAsync(RecorderStatus.Paused);
        await otherControl.NextAsync(RecorderStatus.Paused);
        var lastSeqAtPause = await LastSeqAsync(runnerSide.InteractionId);
        await Task.Delay(PauseWatched, Ct); // the span a paused run is observed for
        Assert.Equal(lastSeqAtPause, await LastSeqAsync(runnerSide.InteractionId));
        Assert.DoesNotContain(reading.Snapshot(), a => a.At > paused.At + TimeSpan.FromMilliseconds(100));

        var played = Stopwatch.StartNew();
        await otherSide.SkipToEndAsync(Ct);
        var playing = await runnerControl.NextAsync(RecorderStatus.Playing);
        Assert.Equal(0.0, playing.Data.GetProperty("speed").GetDouble());
        var all = await reading.Completion.WaitAsync(TestEnvironment.Timeout);
        Assert.Equal(RecorderStatus.Finished, all[^1].Envelope.Status);

        // The rest at speed 0: far quicker than the remaining steps at 250 ms each.
        var remaining = all.Count - (int)lastSeqAtPause;
        Assert.True(remaining >= 3, $"only {remaining} raws were left after the pause");
        Assert.True(played.Elapsed < TimeSpan.FromMilliseconds(250) * remaining, $"skip to end took {played.Elapsed} for {remaining} raws");
    }

    [Fact]
    public async Task ARunTakenOverWhilePausedStaysPausedUntilPlay()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording), Ct);
        var control = new ControlLog(client);
        var reading = Arrivals.ReadAsync(client, Ct);

        // A run that began on an instance now gone, paused there: its first raw written, its lease run out.
        await using (var connection = await server.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("""
                WITH s AS (
                    UPDATE interactions SET last_seq = 1, status = 'running', run_requested = true, paused = true,
                        control_version = 1, run_owner = 'gone', run_lease_until = now() - interval '1 second'
                    WHERE interaction_id = @id AND last_seq = 0 RETURNING interaction_id)
                INSERT INTO raw (interaction_id, seq, node_id, status, is_human) SELECT interaction_id, 1, 'r1', 'running', true FROM s
                """, new { id = client.InteractionId });
        }

        // This instance takes the run over and keeps it paused: nothing after seq 1 while watched.
        await Eventually.UntilAsync(
            () => server.QueryScalarAsync<string>("SELECT coalesce(run_owner, '') FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId }),
            owner => owner is not ("" or "gone"), TestEnvironment.Timeout, "the takeover");
        await reading.UntilSeqAsync(1);
        await Task.Delay(PauseWatched, Ct); // the span a paused run is observed for
        Assert.Equal(1L, await LastSeqAsync(client.InteractionId));
        Assert.Equal([1L], reading.Snapshot().Select(a => a.Envelope.Seq));

        await client.PlayAsync(Ct);
        await control.NextAsync(RecorderStatus.Playing);
        var all = await reading.Completion.WaitAsync(TestEnvironment.Timeout);
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(a => a.Envelope.Seq));
        Assert.Equal(RecorderStatus.Finished, all[^1].Envelope.Status);
    }

    [Theory]
    [InlineData("fast", "speed must be a number, e.g. 0.5, 1 or 2.")]
    [InlineData("NaN", "speed must be a finite number.")]
    [InlineData("Infinity", "speed must be a finite number.")]
    [InlineData("9", "speed must be between 0.25 and 8, or 0 (as fast as possible).")]
    [InlineData("0.1", "speed must be between 0.25 and 8, or 0 (as fast as possible).")]
    [InlineData("-1", "speed must be between 0.25 and 8, or 0 (as fast as possible).")]
    public async Task AConnectWithABadSpeedIsRefusedAndCreatesNothing(string speed, string refusal)
    {
        var (user, token) = await server.NewUserAsync();
        var options = server.ClientOptions(user, token, PacedHubServer.Recording) with
        {
            ConfigureHttpConnection = http => http.Headers[RecorderProtocol.HeaderName(RecorderProtocol.SpeedKey)] = speed,
        };
        var refused = await Assert.ThrowsAsync<RecorderConnectionRefusedException>(() => RecorderClient.ConnectAsync(options, Ct));
        Assert.Equal(refusal, refused.Message);
        Assert.Equal(0L, await server.QueryScalarAsync<long>("SELECT count(*) FROM interactions WHERE user_id = @user", new { user }));
    }

    [Fact]
    public async Task BadSpeedsAndCallsOnAFinishedRunAreRefusedAndChangeNothing()
    {
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording) with { Speed = 2 }, Ct);
        foreach (var (speed, text) in new[]
        {
            // (NaN and infinities cannot be written in the JSON protocol; the connect query's tests cover them.)
            (0.1, "speed must be between 0.25 and 8, or 0 (as fast as possible)."),
            (100, "speed must be between 0.25 and 8, or 0 (as fast as possible)."),
            (-2, "speed must be between 0.25 and 8, or 0 (as fast as possible)."),
        })
        {
            var error = await Assert.ThrowsAsync<HubException>(() => client.SetSpeedAsync(speed, Ct));
            Assert.Contains(text, error.Message, StringComparison.Ordinal);
        }

        Assert.Equal((2.0, 0L), await PlaybackAsync(client.InteractionId));

        await client.SetSpeedAsync(0, Ct); // 0 is allowed here: the rest as fast as possible
        var all = await Replays.RunToEndAsync(client);
        Assert.Equal(RecorderStatus.Finished, all[^1].Status);
        var before = await PlaybackAsync(client.InteractionId);
        foreach (var call in new Func<Task>[] { () => client.PauseAsync(Ct), () => client.PlayAsync(Ct), () => client.SetSpeedAsync(1, Ct), () => client.SkipToEndAsync(Ct) })
        {
            var error = await Assert.ThrowsAsync<HubException>(call);
            Assert.Contains($"the run of interaction '{client.InteractionId}' is over (finished): it can no longer be paused, played or sped up.", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(before, await PlaybackAsync(client.InteractionId));
    }

    [Fact]
    public async Task TheXAgentSocketPausesAndPlaysWithTextFramesAndRefusesABadSpeedFrame()
    {
        var (user, token) = await server.NewUserAsync();
        var clientId = Guid.NewGuid().ToString("N");
        await using var socket = await XAgentWebClient.ConnectAsync(
            server.BaseUrl, clientId, XAgentWebClient.Query(user, token, PacedHubServer.Recording, speed: 0.25), Ct);
        Assert.Equal(RecorderStatus.Connect, (await socket.First.WaitAsync(TestEnvironment.Timeout)).Status);
        Assert.Equal(0.25, await server.QueryScalarAsync<double>("SELECT replay_speed FROM interactions WHERE interaction_id = @clientId", new { clientId }));

        await socket.SendAsync("""{"type":"speed","value":"fast"}""", Ct);
        var refused = await FrameAsync(socket, f => f.Type == "control_refused");
        Assert.False(refused.Json.TryGetProperty("success", out _)); // the UI would take success: false for a refusal and disconnect
        Assert.Equal("a speed frame needs a number \"value\", e.g. {\"type\":\"speed\",\"value\":2}.", refused.Json.GetProperty("message").GetString());

        await socket.SendAsync("""{"type":"pause"}""", Ct);
        await FrameAsync(socket, f => f.Status == RecorderStatus.Paused);
        var lastSeqAtPause = await LastSeqAsync(clientId);
        await Task.Delay(PauseWatched, Ct); // the span a paused run is observed for
        Assert.Equal(lastSeqAtPause, await LastSeqAsync(clientId));

        await socket.SendAsync("""{"type":"speed","value":4}""", Ct);
        await FrameAsync(socket, f => f.Status == RecorderStatus.Paused && f.Json.GetProperty("data").GetProperty("speed").GetDouble() == 4);
        await socket.SendAsync("""{"type":"play"}""", Ct);
        await FrameAsync(socket, f => f.Status == RecorderStatus.Finished);
        var seqs = socket.Raws.Select(f => f.Seq).ToList();
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
    }

    private static async Task<XAgentWebClient.Frame> FrameAsync(XAgentWebClient socket, Func<XAgentWebClient.Frame, bool> match)
    {
        try
        {
            return (await Eventually.UntilAsync(() => Task.FromResult(socket.Frames.FirstOrDefault(match)), f => f is not null, TestEnvironment.Timeout, "a frame"))!;
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no such frame among: {string.Join(" | ", socket.Frames.Select(f => f.Text.ReplaceLineEndings("")))}");
            throw;
        }
    }

    private Task<long> LastSeqAsync(string interactionId) =>
        server.QueryScalarAsync<long>("SELECT last_seq FROM interactions WHERE interaction_id = @interactionId", new { interactionId });

    private async Task<(double Speed, long Version)> PlaybackAsync(string interactionId) =>
        (await server.QueryAsync<(double, long)>(
            "SELECT replay_speed, control_version FROM interactions WHERE interaction_id = @interactionId", new { interactionId })).Single();

    private static List<TimeSpan> Gaps(IEnumerable<Arrival> arrivals)
    {
        var list = arrivals.ToList();
        return [.. list.Skip(1).Select((a, i) => a.At - list[i].At)];
    }

    private static TimeSpan Median(List<TimeSpan> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>A raw and when it arrived (from the test's start).</summary>
    private sealed record Arrival(RecorderEnvelope Envelope, TimeSpan At);

    /// <summary>Reads a client's raws in the background, each with its arrival time.</summary>
    private sealed class Arrivals
    {
        private readonly ConcurrentQueue<Arrival> _arrivals = new();

        public Task<List<Arrival>> Completion { get; private set; } = null!;

        public static Arrivals ReadAsync(RecorderClient client, CancellationToken cancellationToken)
        {
            var arrivals = new Arrivals();
            arrivals.Completion = Task.Run(async () =>
            {
                await foreach (var envelope in client.ReadMessagesAsync(cancellationToken))
                {
                    arrivals._arrivals.Enqueue(new Arrival(envelope, Clock.Elapsed));
                }

                return arrivals.Snapshot();
            }, cancellationToken);
            return arrivals;
        }

        public List<Arrival> Snapshot() => [.. _arrivals];

        public Task UntilSeqAsync(long seq) =>
            Eventually.UntilAsync(() => Task.FromResult(Snapshot().Count), n => n >= seq, TestEnvironment.Timeout, $"raw {seq}");
    }

    /// <summary>A control envelope and when it arrived.</summary>
    private sealed record Control(RecorderEnvelope Envelope, TimeSpan At)
    {
        public System.Text.Json.JsonElement Data => Envelope.Data!.Value;
    }

    /// <summary>The control envelopes a client receives, each with its arrival time.</summary>
    private sealed class ControlLog
    {
        private readonly ConcurrentQueue<Control> _seen = new();

        public ControlLog(RecorderClient client) => client.PlaybackChanged += envelope => _seen.Enqueue(new Control(envelope, Clock.Elapsed));

        /// <summary>The latest control envelope of <paramref name="status"/> (waited for); those before it are taken too.</summary>
        public async Task<Control> NextAsync(string status)
        {
            var control = await Eventually.UntilAsync(
                () => Task.FromResult(_seen.LastOrDefault(c => c.Envelope.Status == status)), c => c is not null, TestEnvironment.Timeout, $"a {status} envelope");
            while (_seen.TryDequeue(out var taken) && !ReferenceEquals(taken, control))
            {
            }

            return control!;
        }
    }

    private static readonly Stopwatch Clock = Stopwatch.StartNew();
}
