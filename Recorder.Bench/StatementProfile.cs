using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Recorder.Bench;

/// <summary>
/// The database commands of this process between <see cref="Start"/> and <see cref="Stop"/>, by statement, from
/// Npgsql's own tracing (one activity per command, its duration from send to the last result read). Meant for a
/// window in which the hub is the only thing in the process that talks to PostgreSQL.
/// </summary>
internal sealed partial class StatementProfile : IDisposable
{
    private const string NpgsqlSource = "Npgsql";
    private const int KeyLength = 72;

    private readonly ActivityListener _listener;
    // The statement's text as Npgsql gave it: collapsed into its key only for the report, off the measured path.
    private readonly ConcurrentQueue<(string Text, long StartTicks, long EndTicks)> _commands = new();
    private volatile bool _recording;

    public StatementProfile()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == NpgsqlSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => _recording ? ActivitySamplingResult.AllData : ActivitySamplingResult.None,
            ActivityStopped = OnStopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Start() => _recording = true;

    public void Stop() => _recording = false;

    public void Dispose() => _listener.Dispose();

    /// <summary>One row per statement, most database time first; per raw = commands / <paramref name="raws"/>.</summary>
    public MarkdownTable Table(int raws)
    {
        var table = new MarkdownTable("statement (start)", "commands", "per raw", "median ms", "p99 ms", "share of the hub's database time");
        var all = All().GroupBy(s => s.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => Stats.Of(g.Select(s => s.DurationMs)));
        var total = all.Values.Sum(s => s.Sum);
        foreach (var (key, stats) in all.OrderByDescending(p => p.Value.Sum))
        {
            table.Add($"`{key}`", Units.Int(stats.Count), Units.Number((double)stats.Count / raws, "0.000"), Units.Ms(stats.Median),
                Units.Ms(stats.Percentile(99)), Units.Percent(stats.Sum / total));
        }

        return table;
    }

    private void OnStopped(Activity activity)
    {
        if (!_recording)
        {
            return;
        }

        var text = activity.GetTagItem("db.query.text") as string ?? activity.GetTagItem("db.statement") as string ?? activity.DisplayName;
        var start = activity.StartTimeUtc.Ticks;
        _commands.Enqueue((text, start, start + activity.Duration.Ticks));
    }

    /// <summary>The commands whose statement starts with <paramref name="prefix"/> (whitespace collapsed), by start time.</summary>
    public IReadOnlyList<StatementSpan> Spans(string prefix) =>
        [.. All().Where(s => s.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(s => s.StartTicks)];

    /// <summary>Every command recorded, keyed by its statement's start (whitespace collapsed, cut); each distinct text collapsed once.</summary>
    private List<StatementSpan> All()
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        return [.. _commands.Select(c => new StatementSpan(
            keys.TryGetValue(c.Text, out var key) ? key : keys[c.Text] = Key(c.Text), c.StartTicks, c.EndTicks))];
    }

    private static string Key(string text)
    {
        var key = Whitespace().Replace(text, " ").Trim();
        return key.Length > KeyLength ? key[..KeyLength] + "..." : key;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}

/// <summary>One command: its statement's start (whitespace collapsed, cut) and when it started and ended (<see cref="DateTime.UtcNow"/> ticks).</summary>
internal sealed record StatementSpan(string Key, long StartTicks, long EndTicks)
{
    public double DurationMs => (double)(EndTicks - StartTicks) / TimeSpan.TicksPerMillisecond;
}
