using System.Globalization;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// A process's resident memory as Linux counts it (<c>/proc/&lt;pid&gt;/status</c>): what it holds now (VmRSS) and the
/// most it held (VmHWM), which <see cref="ResetPeak"/> sets back to the present (<c>clear_refs</c> 5), so that a peak
/// can be read over one phase of a test. Everything the process holds counts (GC heap, pooled and native buffers).
/// </summary>
public static class ProcessMemory
{
    /// <summary>VmRSS, in bytes.</summary>
    public static long Resident(int processId) => Field(processId, "VmRSS:");

    /// <summary>VmHWM, in bytes: the peak of <see cref="Resident"/> since the start or the last <see cref="ResetPeak"/>.</summary>
    public static long Peak(int processId) => Field(processId, "VmHWM:");

    public static void ResetPeak(int processId) => File.WriteAllText($"/proc/{processId}/clear_refs", "5");

    private static long Field(int processId, string name)
    {
        var line = File.ReadLines($"/proc/{processId}/status").Single(l => l.StartsWith(name, StringComparison.Ordinal));
        var kilobytes = line[name.Length..].Trim().Split(' ')[0];
        return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
    }
}
