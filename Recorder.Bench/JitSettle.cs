using System.Diagnostics;

namespace Recorder.Bench;

/// <summary>
/// Waits for this process's tiered JIT to settle, as in a hub that has served for a while: at least a minimum time,
/// then until the process spent under 2 % of its CPU of the last <see cref="Window"/> compiling, at most a cap.
/// </summary>
internal static class JitSettle
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    /// <summary>What a report says of a wait: whether the JIT settled, or the cap came first.</summary>
    public static string Verdict(bool settled, TimeSpan cap) => settled
        ? $"it did, its last {Window.TotalSeconds:0} s spent under 2 % of the process's CPU compiling"
        : $"**it had not** by the {cap.TotalSeconds:0} s cap";

    /// <summary>
    /// Returns how long it waited and whether the JIT settled (false: the cap came first). <paramref name="check"/> is
    /// called every second and may throw to end the wait (a child process that died).
    /// </summary>
    public static async Task<(TimeSpan Elapsed, bool Settled)> WaitAsync(TimeSpan min, TimeSpan max, Action? check, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var samples = new Queue<(TimeSpan Elapsed, TimeSpan Cpu, TimeSpan Jit)>();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (true)
        {
            var now = (Elapsed: Stopwatch.GetElapsedTime(start), Cpu: Environment.CpuUsage.TotalTime, Jit: System.Runtime.JitInfo.GetCompilationTime());
            samples.Enqueue(now);
            while (now.Elapsed - samples.Peek().Elapsed > Window)
            {
                samples.Dequeue();
            }

            var first = samples.Peek();
            var settled = now.Elapsed - first.Elapsed >= Window - TimeSpan.FromSeconds(1) && now.Jit - first.Jit < 0.02 * (now.Cpu - first.Cpu);
            if (now.Elapsed >= min && (settled || now.Elapsed >= max))
            {
                return (now.Elapsed, settled);
            }

            check?.Invoke();
            await timer.WaitForNextTickAsync(cancellationToken);
        }
    }
}
