using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.SignalR.Client;
using Recorder.Client;
using Recorder.Client.Contracts;

namespace Recorder.Bench;

/// <summary>
/// <c>Resume(id, 0)</c> of one interaction that already has N raws (a client re-attaching after a reconnect, asking for
/// everything), against the bare SignalR limit: <see cref="BareSignalR"/> sending the same N envelopes to one connection
/// of the same kind. The interaction is made from one real speed-0 replay whose raw rows are copied in SQL up to N.
/// Rounds alternate Recorder and bare, after one warm-up of each (the Recorder warm-up captures the envelopes).
/// </summary>
internal static class ResumeScenario
{
    private static readonly Option<int> RawsOption = new("--raws")
    {
        Description = "Raws in the resumed interaction (at least 2).",
        DefaultValueFactory = _ => 10_000,
    };

    private static readonly Option<int> RoundsOption = new("--rounds")
    {
        Description = "Measured rounds (each a Resume and a bare send), after one warm-up round.",
        DefaultValueFactory = _ => 5,
    };

    private static readonly Option<string> RecordingOption = new("--recording")
    {
        Description = "The recording replayed once for realistic raws (it needs at least 3).",
        DefaultValueFactory = _ => "multi_subtask",
    };

    private static readonly Option<string> ProtocolOption = new("--protocol")
    {
        Description = "The hub protocol of the Recorder and bare clients: json or messagepack.",
        DefaultValueFactory = _ => "json",
    };

    // The copied interaction: the source's columns, finished, last_seq = N, a run that was requested and is over.
    private const string CopyInteractionSql = """
        INSERT INTO interactions (interaction_id, user_id, description, agent, mode, recorder_root_dir, file_list,
                                  status, message, current_step, is_deleted, call_method, recorder_dir, last_seq,
                                  run_requested)
        SELECT @target, user_id, description, agent, mode, recorder_root_dir, file_list,
               'finished', message, current_step, false, call_method, recorder_dir, @count,
               true
        FROM interactions
        WHERE interaction_id = @source AND status = 'finished' AND last_seq >= 3
        """;

    // Seq 1 is the source's `running` raw and seq N its `finished` one; the seqs in between take the source's other raws
    // in turn (2, 3, ..., L-1, 2, 3, ...). Data, status, current, node id and pictures flag are kept; every raw is
    // marked sent, as it would be after a first client had received it.
    private const string CopyRawsSql = """
        WITH src AS (
            SELECT seq, node_id, current, data, file_list, status, is_human, include_pictures
            FROM raw WHERE interaction_id = @source AND NOT is_deleted),
        l AS (SELECT max(seq) AS last FROM src),
        t AS (
            SELECT g AS seq,
                   CASE WHEN g = 1 THEN 1 WHEN g = @count THEN l.last ELSE 2 + (g - 2) % (l.last - 2) END AS from_seq
            FROM generate_series(1, @count) g, l)
        INSERT INTO raw (interaction_id, seq, node_id, current, step, data, file_list, status, is_human,
                         include_pictures, is_send)
        SELECT @target, t.seq, s.node_id, s.current, LEAST(t.seq, 2147483647)::integer, s.data, s.file_list, s.status,
               s.is_human, s.include_pictures, true
        FROM t JOIN src s ON s.seq = t.from_seq
        """;

    // The workspace too, so that raws with pictures carry their file data and the file list is the real one.
    private const string CopyWorkspaceSql = """
        INSERT INTO workspace_files (interaction_id, name, content_hash)
        SELECT @target, name, content_hash FROM workspace_files WHERE interaction_id = @source
        """;

    private const string CheckSql = """
        SELECT count(*) AS raws, min(seq) AS first, max(seq) AS last,
               count(*) FILTER (WHERE status IN ('finished', 'failed')) AS terminal,
               (SELECT status FROM raw WHERE interaction_id = @target AND seq = @count) AS last_status
        FROM raw WHERE interaction_id = @target
        """;

    public static Command CreateCommand()
    {
        var command = new Command("resume", "Resume(id, 0) of an interaction with N raws: raws/s to one client, against bare SignalR sending the same envelopes.")
        {
            RawsOption, RoundsOption, RecordingOption, ProtocolOption,
        };
        ProtocolOption.AcceptOnlyFromAmong("json", "messagepack");
        BenchEnvironment.AddCommonOptions(command);
        command.SetAction((parse, ct) =>
        {
            var settings = new Settings(
                Math.Max(2, parse.GetValue(RawsOption)),
                Math.Max(1, parse.GetValue(RoundsOption)),
                parse.GetValue(RecordingOption)!,
                parse.GetValue(ProtocolOption) == "messagepack" ? RecorderWireProtocol.MessagePack : RecorderWireProtocol.Json);
            return ScenarioRunner.RunAsync("resume", parse, context => RunAsync(context, settings), ct);
        });
        return command;
    }

    private static async Task RunAsync(ScenarioContext context, Settings settings)
    {
        var ct = context.Cancellation;
        var user = BenchUser.Many("r", 1)[0];
        await context.Database.SeedUsersAsync([user], ct);
        using var queries = new QueryCounter(context.Database.Name);
        await using var hub = await HubUnderTest.StartAsync(context.Environment, context.Database, [], context.Redis, instances: 1, ct);

        var (source, sourceRaws) = await ReplayOnceAsync(hub, user, settings.Recording, ct);
        ScenarioRunner.Say($"resume: replayed `{settings.Recording}` once: {sourceRaws} raws in {source}");
        var target = $"resume-{Guid.NewGuid():N}";
        await SeedAsync(context.Database, source, target, settings.Raws, ct);
        ScenarioRunner.Say($"resume: seeded {target} with {settings.Raws} raws");

        var url = ConnectUrl(hub.HubUrl(0), user, settings.Recording, target);
        var seqs = Enumerable.Range(1, settings.Raws).Select(s => (long)s).ToArray();
        var warmup = await ResumeOnceAsync(url, target, seqs, keep: true, settings.Protocol, queries, ct);
        ScenarioRunner.Say($"resume: warm-up: Recorder {Units.Ms(warmup.WallMs)} ms = {Units.Number(warmup.PerSecond)} raws/s, {Units.Int(warmup.WireBytes)} B received");
        var envelopes = warmup.Envelopes!;

        await using var bare = await BareSignalR.StartAsync(settings.Protocol, ct);
        var bareWarmup = await bare.SendAsync([envelopes], ct);
        ScenarioRunner.Say($"resume: warm-up: bare {Units.Ms(bareWarmup.WallMs)} ms = {Units.Number(bareWarmup.MessagesPerSecond)} msgs/s, {Units.Int(bareWarmup.WireBytes)} B received");

        var recorder = new List<ResumeRound>();
        var bareRounds = new List<BareSendResult>();
        for (var r = 1; r <= settings.Rounds; r++)
        {
            var round = await ResumeOnceAsync(url, target, seqs, keep: false, settings.Protocol, queries, ct);
            recorder.Add(round);
            var bareRound = await bare.SendAsync([envelopes], ct);
            bareRounds.Add(bareRound);
            ScenarioRunner.Say($"resume: round {r}: Recorder {Units.Ms(round.WallMs)} ms = {Units.Number(round.PerSecond)} raws/s " +
                               $"({round.Queries.Commands} hub database commands); bare {Units.Ms(bareRound.WallMs)} ms = {Units.Number(bareRound.MessagesPerSecond)} msgs/s");
        }

        Report(context.Report, settings, sourceRaws, recorder, bareRounds);
    }

    private static void Report(Report report, Settings settings, int sourceRaws, IReadOnlyList<ResumeRound> recorder, IReadOnlyList<BareSendResult> bare)
    {
        var recorderMs = Stats.Of(recorder.Select(r => r.WallMs));
        var bareMs = Stats.Of(bare.Select(b => b.WallMs));
        var recorderRate = settings.Raws / (recorderMs.Median / 1000);
        var bareRate = settings.Raws / (bareMs.Median / 1000);
        var ratio = recorderRate / bareRate;
        var commands = Stats.Of(recorder.Select(r => (double)r.Queries.Commands));
        var commandMs = Stats.Of(recorder.Select(r => r.Queries.Milliseconds));
        report
            .Line($"- one interaction with {Units.Int(settings.Raws)} raws, made from one speed-0 replay of `{settings.Recording}` ({sourceRaws} raws) " +
                  "by copying its rows in SQL: seq 1 its `running` raw, seq N its `finished` raw, the seqs between its other raws in turn " +
                  "(status, data, current, node id kept; workspace files copied; every raw `is_send`); the interaction is `finished`, so no run " +
                  "starts and the reaper never closes it, and a connect with its `client_id` re-attaches (allowed whatever the status)")
            .Line($"- hub protocol of both clients: **{(settings.Protocol == RecorderWireProtocol.MessagePack ? "MessagePack" : "JSON")}** (`--protocol`)")
            .Line("- Recorder: a plain SignalR `HubConnection` (the wire's JSON or MessagePack options, `Message` into `RecorderEnvelope`) connects " +
                  "with `client_id` = the interaction (re-attach: the connect envelope, then nothing), then `Resume(id, 0)` is timed until seq N " +
                  "arrived; every seq 1..N checked, in order, once; a fresh connection per round, the connect not timed")
            .Line("- bare: `BareSignalR`, a plain hub in this process (no auth, no database) sending the same envelopes (as received in the " +
                  "warm-up round) with `Clients.Caller.SendAsync(\"Message\", envelope)`, one awaited send each, to one connection of the same kind; " +
                  "timed from the send request to the last envelope received, same check")
            .Line($"- {settings.Rounds} measured rounds, each a Resume then a bare send, after one warm-up of each; hub: one instance, default " +
                  $"settings (`Recorder:Delivery:PageSize=256`, `OutboxCapacity=512` unless `--hub-setting` says otherwise); " +
                  "clients, both servers and PostgreSQL share the machine")
            .Heading("Resume vs bare SignalR")
            .Table(new MarkdownTable("raws", "Recorder median ms", "Recorder raws/s", "bare median ms", "bare msgs/s", "ratio Recorder/bare (target >= 0.5)")
                .Add(Units.Int(settings.Raws), Units.Ms(recorderMs.Median), Units.Number(recorderRate), Units.Ms(bareMs.Median), Units.Number(bareRate),
                    $"{Units.Number(ratio, "0.00")} ({(ratio >= 0.5 ? "met" : "not met")})"))
            .Heading("Details")
            .Table(new MarkdownTable("server", "min - max ms", "WebSocket bytes received per round (median)", "hub database commands per Resume (median, min - max)",
                    "their summed duration ms (median)")
                .Add("Recorder", $"{Units.Ms(recorderMs.Min)} - {Units.Ms(recorderMs.Max)}", Units.Int((long)Stats.Of(recorder.Select(r => (double)r.WireBytes)).Median),
                    $"{Units.Number(commands.Median)} ({Units.Number(commands.Min)} - {Units.Number(commands.Max)})", Units.Ms(commandMs.Median))
                .Add("bare", $"{Units.Ms(bareMs.Min)} - {Units.Ms(bareMs.Max)}", Units.Int((long)Stats.Of(bare.Select(b => (double)b.WireBytes)).Median), "-", "-"))
            .Line()
            .Line("Bytes are the WebSocket payload the client received between the request and the last envelope (envelopes, the invocation's " +
                  "completion, any ping): equal bytes mean the two servers put the same envelopes on the wire. Database commands are the hub " +
                  "pool's (QueryCounter) in the same window: the pages of raws, the workspace reads, the `is_send` marks, plus any housekeeping " +
                  "that fell into it; the connect and disconnect of the round's connection are outside it.");
    }

    /// <summary>One speed-0 replay through the hub, read to its <c>finished</c> raw; returns its interaction and raw count.</summary>
    private static async Task<(string InteractionId, int Raws)> ReplayOnceAsync(HubUnderTest hub, BenchUser user, string recording, CancellationToken cancellationToken)
    {
        await using var client = await RecorderClient.ConnectAsync(hub.ClientOptions(user, recording, 0), cancellationToken);
        await client.StartRecorderAsync(cancellationToken);
        RecorderEnvelope? last = null;
        await foreach (var message in client.ReadMessagesAsync(cancellationToken))
        {
            if (message.Seq != (last?.Seq ?? 0) + 1)
            {
                throw new InvalidOperationException($"{client.InteractionId}: got seq {message.Seq} after {last?.Seq ?? 0}");
            }

            last = message;
        }

        return last?.Status == RecorderStatus.Finished
            ? (client.InteractionId, (int)last.Seq)
            : throw new InvalidOperationException($"the replay of '{recording}' ended with '{last?.Status}' ({last?.Message}), not finished");
    }

    /// <summary>Copies the source interaction, its raws (to <paramref name="count"/>) and its workspace to <paramref name="target"/>, in one transaction.</summary>
    private static async Task SeedAsync(BenchDatabase database, string source, string target, int count, CancellationToken cancellationToken)
    {
        var args = new { source, target, count };
        await using (var connection = await database.DataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            if (await connection.ExecuteAsync(new CommandDefinition(CopyInteractionSql, args, transaction, cancellationToken: cancellationToken)) != 1)
            {
                throw new InvalidOperationException($"{source} is not a finished interaction with at least 3 raws");
            }

            await connection.ExecuteAsync(new CommandDefinition(CopyRawsSql, args, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(CopyWorkspaceSql, args, transaction, cancellationToken: cancellationToken));
            var check = await connection.QuerySingleAsync<(long Raws, long First, long Last, long Terminal, string? LastStatus)>(
                new CommandDefinition(CheckSql, args, transaction, cancellationToken: cancellationToken));
            if (check.Raws != count || check.First != 1 || check.Last != count || check.Terminal != 1 || check.LastStatus != RecorderStatus.Finished)
            {
                throw new InvalidOperationException($"seeding {target} went wrong: {check}");
            }

            await transaction.CommitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Re-attaches a fresh plain connection to the interaction, then times <c>Resume(id, 0)</c> until every raw arrived;
    /// the hub's database commands are counted over the same window.
    /// </summary>
    private static async Task<ResumeRound> ResumeOnceAsync(Uri url, string target, IReadOnlyList<long> seqs, bool keep, RecorderWireProtocol protocol, QueryCounter queries, CancellationToken cancellationToken)
    {
        await using var receiver = await EnvelopeReceiver.ConnectAsync(url, greeted: true, protocol, cancellationToken);
        var greeting = await receiver.Greeting.WaitAsync(cancellationToken);
        CheckGreeting(greeting, target, seqs.Count);

        var batch = receiver.Expect(seqs, keep);
        var bytesBefore = receiver.WireBytes;
        var queriesBefore = queries.Snapshot();
        var start = Stopwatch.GetTimestamp();
        await receiver.Connection.InvokeAsync(nameof(IRecorderHub.Resume), target, 0L, cancellationToken);
        var received = await batch.WaitAsync(cancellationToken);
        var queriesAfter = queries.Snapshot();
        var bytes = receiver.WireBytes - bytesBefore;
        receiver.ThrowIfUnexpected();
        return new ResumeRound(Units.ElapsedMs(start, received.LastTimestamp), seqs.Count, bytes, queriesAfter - queriesBefore, received.Envelopes);
    }

    /// <summary>The connect envelope of a re-attach: the interaction, finished, with every raw written.</summary>
    private static void CheckGreeting(RecorderEnvelope greeting, string target, int count)
    {
        var data = greeting.Data is { ValueKind: JsonValueKind.Object } d ? d : default;
        var status = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("status", out var s) ? s.GetString() : null;
        var lastSeq = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("last_seq", out var l) ? l.GetInt64() : -1;
        if (greeting.Status != RecorderStatus.Connect || greeting.InteractionId != target || status != RecorderStatus.Finished || lastSeq != count)
        {
            throw new InvalidOperationException($"unexpected connect envelope: status {greeting.Status}, interaction {greeting.InteractionId}, " +
                                                $"data.status {status}, data.last_seq {lastSeq} (wanted connect, {target}, finished, {count})");
        }
    }

    /// <summary>The hub URL with the connect values in the query string (as a browser sends them).</summary>
    private static Uri ConnectUrl(Uri hubUrl, BenchUser user, string recording, string clientId)
    {
        var builder = new UriBuilder(hubUrl)
        {
            Query = string.Join('&',
                $"{RecorderProtocol.UserIdKey}={Uri.EscapeDataString(user.UserId)}",
                $"{RecorderProtocol.TokenKey}={Uri.EscapeDataString(user.Token)}",
                $"{RecorderProtocol.RecorderDirKey}={Uri.EscapeDataString(recording)}",
                $"{RecorderProtocol.ClientIdKey}={Uri.EscapeDataString(clientId)}"),
        };
        return builder.Uri;
    }

    private sealed record Settings(int Raws, int Rounds, string Recording, RecorderWireProtocol Protocol);

    private sealed record ResumeRound(double WallMs, int Raws, long WireBytes, QuerySnapshot Queries, IReadOnlyList<RecorderEnvelope>? Envelopes)
    {
        public double PerSecond => Raws / (WallMs / 1000);
    }
}
