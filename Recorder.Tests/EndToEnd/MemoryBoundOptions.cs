using System.Globalization;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// The size of <see cref="MemoryBoundTests"/>: <c>RECORDER_MEMORY_NOTEBOOKS</c> notebook raws, each naming one
/// picture of <c>RECORDER_MEMORY_PICTURE_MB</c> megabytes, read from seq 0 by <c>RECORDER_MEMORY_CONNECTIONS</c>
/// connections at once. The suite's default (40 × 5 MB × 10) is the same shape, smaller; it does not catch pages that are
/// not cut by bytes, the full figure (100 × 5 MB × 20) does: docs/reliability.md, with its command.
/// </summary>
internal sealed record MemoryBoundOptions(int Notebooks, int PictureBytes, int Connections)
{
    public static MemoryBoundOptions FromEnvironment() => new(
        Notebooks: (int)Number("RECORDER_MEMORY_NOTEBOOKS", 40),
        PictureBytes: (int)(Number("RECORDER_MEMORY_PICTURE_MB", 5) * 1024 * 1024),
        Connections: (int)Number("RECORDER_MEMORY_CONNECTIONS", 10));

    private static double Number(string name, double fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text
            ? double.Parse(text, CultureInfo.InvariantCulture)
            : fallback;
}
