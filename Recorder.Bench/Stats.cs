using System.Diagnostics;
using System.Globalization;

namespace Recorder.Bench;

/// <summary>Order statistics of a sample (nearest-rank percentiles: p99 of 2000 values is the 1980th smallest).</summary>
internal sealed class Stats
{
    private readonly double[] _sorted;

    private Stats(double[] sorted) => _sorted = sorted;

    public int Count => _sorted.Length;

    public double Min => _sorted.Length == 0 ? double.NaN : _sorted[0];

    public double Max => _sorted.Length == 0 ? double.NaN : _sorted[^1];

    public double Median => Percentile(50);

    public double Sum => _sorted.Sum();

    public static Stats Of(IEnumerable<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return new Stats(sorted);
    }

    public double Percentile(double p)
    {
        if (_sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(p / 100 * _sorted.Length);
        return _sorted[Math.Clamp(rank - 1, 0, _sorted.Length - 1)];
    }

    /// <summary>The number of values below <paramref name="limit"/>.</summary>
    public int CountBelow(double limit) => _sorted.Count(v => v < limit);

    /// <summary>The fraction of values at most <paramref name="limit"/>.</summary>
    public double FractionAtMost(double limit) =>
        _sorted.Length == 0 ? double.NaN : (double)_sorted.Count(v => v <= limit) / _sorted.Length;
}

/// <summary>Formatting and clock helpers.</summary>
internal static class Units
{
    public static double ElapsedMs(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    public static string Ms(double ms) => double.IsNaN(ms) ? "-" : ms switch
    {
        < 10 => ms.ToString("0.00", CultureInfo.InvariantCulture),
        < 100 => ms.ToString("0.0", CultureInfo.InvariantCulture),
        _ => ms.ToString("0", CultureInfo.InvariantCulture),
    };

    public static string Number(double value, string format = "0") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Int(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Percent(double fraction) => (fraction * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %";

    /// <summary>A percentage with two significant digits (0.2 %, 0.0034 %, 49 %).</summary>
    public static string SignificantPercent(double fraction) =>
        (fraction * 100).ToString("G2", CultureInfo.InvariantCulture) + " %";

    public static string Bytes(double bytes) => Math.Abs(bytes) switch
    {
        >= 1024 * 1024 => (bytes / (1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1024 => (bytes / 1024).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString("0", CultureInfo.InvariantCulture) + " B",
    };
}
