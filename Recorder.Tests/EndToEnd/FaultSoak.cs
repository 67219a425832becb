using System.Diagnostics;
using Npgsql;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// The fault soak: two hub processes (each a runner) behind the Redis backplane of <see cref="FaultSoakHubServer"/>,
/// <see cref="FaultSoakOptions.Runs"/> paced replays at once, each followed by a <see cref="SoakClient"/> that drops
/// its connection at random; while the runs are mid-way, one after the other: SIGKILL of the hub process owning the
/// most runs (a replacement started just before), <c>pg_ctl</c> restart of the cluster, kill and restart of Redis. After each
/// fault it waits (bounded) until every run the fault could stop has delivered a raw written after it: recovery
/// without help. Then every run skips to its end and the streams are tallied.
/// </summary>
internal sealed class FaultSoak(FaultSoakHubServer server, FaultSoakOptions options, Action<string> log)
{
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);
    private readonly Lock _gate = new();
    private readonly List<HubProcess> _live = [];
    private readonly List<HubProcess> _all = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public async Task<FaultSoakReport> RunAsync(CancellationToken cancellationToken)
    {
        var random = new Random(options.Seed);
        var soaks = new List<SoakClient>();
        try
        {
            foreach (var hub in await Task.WhenAll(StartHubAsync(cancellationToken), StartHubAsync(cancellationToken)))
            {
                Add(hub);
            }

            Say($"hubs up (pids {string.Join(", ", _live.Select(h => h.ProcessId))}); connecting {options.Runs} clients");
            for (var i = 0; i < options.Runs; i++)
            {
                var (user, token) = await server.NewUserAsync();
                var client = await PlainClient.ConnectAsync(PickHub(random), user, token, FaultSoakHubServer.Recording, cancellationToken);
                soaks.Add(new SoakClient(client, PickHub, new Random(random.Next()), options.DropEvery));
            }

            await Task.WhenAll(soaks.Select(s => s.Client.StartRecorderAsync(cancellationToken)));
            var followers = soaks.Select(s => Task.Run(() => s.FollowAsync(cancellationToken), cancellationToken)).ToList();
            await Eventually.UntilAsync(() => Task.FromResult(soaks.Min(s => s.Client.Raws.Count)), n => n >= 2, TestEnvironment.Timeout, "two raws for every run");
            Say("every run is going");

            var faults = new List<FaultFigures>
            {
                await KillHubAsync(soaks, cancellationToken),
                await OutageAsync("PostgreSQL restart (pg_ctl -m immediate)", soaks, ct => server.Postgres.RestartAsync(options.PostgresDown, ct), cancellationToken),
                await OutageAsync("Redis kill and restart", soaks, _ => server.Redis.RestartAsync(options.RedisDown), cancellationToken),
            };

            Say("faults done; every run skips to its end");
            foreach (var soak in soaks)
            {
                soak.Hurry();
            }

            try
            {
                await Task.WhenAll(followers).WaitAsync(RecoveryTimeout, cancellationToken);
            }
            catch (TimeoutException exception)
            {
                throw new TimeoutException($"runs that did not end: {Describe(soaks.Where(s => !s.Client.Ended.IsCompleted))}", exception);
            }

            Say("every run ended");
            return new FaultSoakReport(options, server.Expected.Count, _clock.Elapsed, faults,
                [.. soaks.Select(s => ClientTally.Of(s, server.Expected))]);
        }
        finally
        {
            foreach (var soak in soaks)
            {
                await soak.Client.DisposeAsync();
            }

            foreach (var hub in _all)
            {
                await hub.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// SIGKILL of the hub process owning the most runs; its runs must be taken over. The replacement is started just
    /// before (so that the takeover measured is the product's, not the time a process takes to start on a loaded
    /// machine): the killed hub's runs go to the survivor and the replacement.
    /// </summary>
    private async Task<FaultFigures> KillHubAsync(IReadOnlyList<SoakClient> soaks, CancellationToken cancellationToken)
    {
        Add(await StartHubAsync(cancellationToken));
        Say("replacement hub up");
        var claims = await ClaimsAsync(cancellationToken);
        var before = await StatesAsync(soaks, cancellationToken);
        var midWay = MidWay(before);
        var owner = midWay.Values.GroupBy(s => s.Owner).OrderByDescending(g => g.Count()).First().Key
            ?? throw new InvalidOperationException("the runs have no owner");
        var victim = _live.Single(h => owner.Contains($"/{h.ProcessId}/", StringComparison.Ordinal));
        var affected = soaks.Where(s => before[s.Client.InteractionId].Owner == owner).ToList();
        Say($"SIGKILL of hub pid {victim.ProcessId}, owner of {affected.Count} runs");
        lock (_gate)
        {
            _live.Remove(victim);
        }

        var at = DateTime.UtcNow;
        victim.Kill();

        // The killed instance writes nothing more: what its runs had written is exactly what is in the database now.
        var written = await StatesAsync(affected, cancellationToken);
        await RecoveredAsync("the killed hub's runs", affected, written, cancellationToken);
        var after = await StatesAsync(affected, cancellationToken);
        await Task.Delay(Settle, cancellationToken); // spacing between two faults, not a wait for a condition
        return new FaultFigures("SIGKILL of a hub process", midWay.Count, affected.Count, TimeSpan.Zero,
            Recoveries(affected, written, at), affected.Count(s => after[s.Client.InteractionId].Owner != owner),
            await ClaimedSinceAsync(claims, cancellationToken));
    }

    /// <summary>A server down and up again (<paramref name="fault"/>); every live run is affected.</summary>
    private async Task<FaultFigures> OutageAsync(string name, IReadOnlyList<SoakClient> soaks, Func<CancellationToken, Task> fault, CancellationToken cancellationToken)
    {
        var claims = await ClaimsAsync(cancellationToken);
        var before = await StatesAsync(soaks, cancellationToken);
        var midWay = MidWay(before);
        var affected = soaks.Where(s => midWay.ContainsKey(s.Client.InteractionId)).ToList();
        Say($"{name}: {affected.Count} runs mid-way");
        var at = DateTime.UtcNow;
        var outage = Stopwatch.StartNew();
        await fault(cancellationToken);
        outage.Stop();
        Say($"{name}: back after {outage.Elapsed.TotalSeconds:0.0} s");
        var written = await WrittenBeforeAsync(affected, at, cancellationToken);
        await RecoveredAsync(name, affected, written, cancellationToken);
        var after = await StatesAsync(affected, cancellationToken);
        await Task.Delay(Settle, cancellationToken); // spacing between two faults, not a wait for a condition
        return new FaultFigures(name, midWay.Count, affected.Count, outage.Elapsed, Recoveries(affected, written, at),
            affected.Count(s => after[s.Client.InteractionId].Owner != before[s.Client.InteractionId].Owner),
            await ClaimedSinceAsync(claims, cancellationToken));
    }

    /// <summary>Waits until every affected run that has not ended delivered a raw written after the fault.</summary>
    private async Task RecoveredAsync(string what, IReadOnlyList<SoakClient> affected, IReadOnlyDictionary<string, RunState> written, CancellationToken cancellationToken)
    {
        try
        {
            await Eventually.UntilAsync(
                () => Task.FromResult(affected.Where(s => !s.Client.Raws.Any(r => r.Seq > written[s.Client.InteractionId].LastSeq)).ToList()),
                waiting => waiting.Count == 0, RecoveryTimeout, $"{what}: a raw written after the fault for every run").WaitAsync(cancellationToken);
        }
        catch (TimeoutException exception)
        {
            var waiting = affected.Where(s => !s.Client.Raws.Any(r => r.Seq > written[s.Client.InteractionId].LastSeq));
            throw new TimeoutException($"{what}: runs that did not recover: {Describe(waiting)}", exception);
        }

        Say($"{what}: recovered");
    }

    /// <summary>Per run: from the fault to the arrival of its first raw written after the fault.</summary>
    private static List<TimeSpan> Recoveries(IReadOnlyList<SoakClient> affected, IReadOnlyDictionary<string, RunState> written, DateTime at) =>
    [
        .. affected.Select(s =>
        {
            var raws = s.Client.Raws;
            var arrivals = s.Client.Arrivals;
            var index = Enumerable.Range(0, raws.Count).First(i => raws[i].Seq > written[s.Client.InteractionId].LastSeq);
            return arrivals[index] - at;
        }),
    ];

    private Dictionary<string, RunState> MidWay(IReadOnlyDictionary<string, RunState> states) =>
        states.Where(s => s.Value.Status == "running" && s.Value.LastSeq >= 1 && s.Value.LastSeq <= server.Expected.Count - 2)
            .ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);

    /// <summary>The runs' rows.</summary>
    private async Task<Dictionary<string, RunState>> StatesAsync(IEnumerable<SoakClient> soaks, CancellationToken cancellationToken)
    {
        var ids = soaks.Select(s => s.Client.InteractionId).ToArray();
        var rows = await QueryAsync<RunState>(
            "SELECT interaction_id AS InteractionId, status AS Status, last_seq AS LastSeq, run_owner AS Owner FROM interactions WHERE interaction_id = ANY(@ids)",
            new { ids }, cancellationToken);
        return rows.ToDictionary(r => r.InteractionId, StringComparer.Ordinal);
    }

    /// <summary>
    /// Each run's last raw written before <paramref name="at"/> (a raw's create_time is its transaction's start; one
    /// that started before the fault and was cut by it was never written): what it had before the fault.
    /// </summary>
    private async Task<Dictionary<string, RunState>> WrittenBeforeAsync(IEnumerable<SoakClient> soaks, DateTime at, CancellationToken cancellationToken)
    {
        var ids = soaks.Select(s => s.Client.InteractionId).ToArray();
        var rows = await QueryAsync<RunState>("""
            SELECT i.interaction_id AS InteractionId, i.status AS Status,
                   coalesce((SELECT max(r.seq) FROM raw r WHERE r.interaction_id = i.interaction_id AND r.create_time <= @at), 0) AS LastSeq,
                   i.run_owner AS Owner
            FROM interactions i WHERE i.interaction_id = ANY(@ids)
            """, new { ids, at }, cancellationToken);
        return rows.ToDictionary(r => r.InteractionId, StringComparer.Ordinal);
    }

    /// <summary>A query of the soak's database, retried while it is coming back (the pool's connections died with it).</summary>
    private async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object args, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await server.QueryAsync<T>(sql, args);
            }
            catch (NpgsqlException) when (attempt < 40)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken); // the database is coming back: ask again
            }
        }
    }

    /// <summary>Each live hub's <c>recorder_runs_taken_over_total</c>: its claims of runs that had raws already.</summary>
    private async Task<Dictionary<int, double>> ClaimsAsync(CancellationToken cancellationToken)
    {
        HubProcess[] live;
        lock (_gate)
        {
            live = [.. _live];
        }

        var claims = new Dictionary<int, double>();
        foreach (var hub in live)
        {
            using var http = new HttpClient { BaseAddress = hub.BaseUrl };
            claims[hub.ProcessId] = (await PrometheusText.ScrapeAsync(http, cancellationToken)).GetValueOrDefault("recorder_runs_taken_over_total");
        }

        return claims;
    }

    /// <summary>
    /// Claims of runs with raws since <paramref name="before"/> by the hubs live now: takeovers from a dead instance,
    /// and runs an outage interrupted, claimed again (by their own instance too) once their lease ran out.
    /// </summary>
    private async Task<int> ClaimedSinceAsync(Dictionary<int, double> before, CancellationToken cancellationToken) =>
        (int)(await ClaimsAsync(cancellationToken)).Sum(c => c.Value - before.GetValueOrDefault(c.Key));

    /// <summary>
    /// A hub process that runs replays, at most two thirds of the soak's runs: both first hubs get some, and the
    /// killed one's are spread over the survivor and the replacement (neither can take them all).
    /// </summary>
    private Task<HubProcess> StartHubAsync(CancellationToken cancellationToken) =>
        HubProcess.StartAsync(server,
            [new("Recorder:Runs:MaxConcurrentRuns", ((options.Runs * 2 + 2) / 3).ToString(System.Globalization.CultureInfo.InvariantCulture))],
            cancellationToken);

    private void Add(HubProcess hub)
    {
        lock (_gate)
        {
            _live.Add(hub);
            _all.Add(hub);
        }
    }

    private Uri PickHub(Random random)
    {
        lock (_gate)
        {
            return _live[random.Next(_live.Count)].HubUrl;
        }
    }

    private static string Describe(IEnumerable<SoakClient> soaks) =>
        string.Join("; ", soaks.Select(s => $"{s.Client.InteractionId} (last seq {s.Client.LastSeq}, {s.Drops} drops, {s.Lost} lost, last failure: {s.LastFailure ?? "none"})"));

    private void Say(string text) => log($"[{_clock.Elapsed.TotalSeconds,6:0.0}s] {text}");
}

/// <summary>An interaction's row as the soak reads it.</summary>
internal sealed record RunState(string InteractionId, string Status, long LastSeq, string? Owner);
