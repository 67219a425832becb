namespace Recorder.XAgent.Disk;

/// <summary>
/// What an I/O failure while reading a recording tells a client: the kind of problem, never the exception's text,
/// which names absolute server paths (the log keeps the exception).
/// </summary>
internal static class IoProblem
{
    public static string Describe(Exception exception) => exception switch
    {
        UnauthorizedAccessException => "permission denied",
        FileNotFoundException or DirectoryNotFoundException => "it was removed while the recording was being read",
        PathTooLongException => "its path is too long",
        IOException when exception.HResult == 40 || exception.Message.Contains("symbolic links", StringComparison.OrdinalIgnoreCase) =>
            "too many levels of symbolic links",
        _ => "an I/O error",
    };
}
