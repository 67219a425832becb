using System.Diagnostics;

namespace Recorder.Bench;

/// <summary>Memory and CPU of this process (the hub runs in it).</summary>
internal readonly record struct ProcessSnapshot(long WorkingSet, long GcHeap, long GcCommitted, int Threads, TimeSpan Cpu)
{
    /// <summary>A snapshot after a full blocking, compacting collection, so that the GC heap is the live data.</summary>
    public static ProcessSnapshot AfterFullCollection()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return Now();
    }

    public static ProcessSnapshot Now()
    {
        using var process = Process.GetCurrentProcess();
        return new ProcessSnapshot(
            process.WorkingSet64,
            GC.GetTotalMemory(forceFullCollection: false),
            GC.GetGCMemoryInfo().TotalCommittedBytes,
            process.Threads.Count,
            process.TotalProcessorTime);
    }

    /// <summary>File descriptors this process has open (Linux: /proc/self/fd), or -1 where that cannot be read.</summary>
    public static int OpenFileDescriptors()
    {
        try
        {
            return Directory.Exists("/proc/self/fd") ? Directory.GetFileSystemEntries("/proc/self/fd").Length : -1;
        }
        catch (IOException)
        {
            return -1;
        }
        catch (UnauthorizedAccessException)
        {
            return -1;
        }
    }
}
