using System.Diagnostics;
using System.Globalization;
using Recorder.XAgent.Disk;

namespace Recorder.Hub.Cli;

/// <summary>
/// <c>recordings import</c>'s progress on stderr: a line every <see cref="EveryFiles"/> files or every
/// <see cref="Every"/>, whichever comes first, and one when the folder is read.
/// </summary>
internal sealed class ImportProgress(TextWriter error) : IProgress<XAgentReadProgress>
{
    public const int EveryFiles = 500;

    public static readonly TimeSpan Every = TimeSpan.FromSeconds(1);

    private readonly Stopwatch _sinceLine = Stopwatch.StartNew();
    private int _lineFiles;

    public void Report(XAgentReadProgress value)
    {
        var done = value.Files == value.TotalFiles;
        if (!done && value.Files - _lineFiles < EveryFiles && _sinceLine.Elapsed < Every)
        {
            return;
        }

        _lineFiles = value.Files;
        _sinceLine.Restart();
        error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"read {value.Files}/{value.TotalFiles} files, {value.Bytes / 1048576.0:0.0}/{value.TotalBytes / 1048576.0:0.0} MB"));
    }
}
