namespace Recorder.XAgent.Disk;

/// <summary>
/// Lists every regular file under a recording folder, with its path relative to the folder ('/' separated).
/// A symbolic link is followed only when its final target lies inside the folder; one pointing outside (or back
/// at one of its own parents) makes the whole recording refused. Nothing outside the folder is ever opened.
/// </summary>
public static class RecordingFolderWalker
{
    private const int MaxDepth = 32;

    /// <summary>The most files and folders a recording may hold, counting each time a symbolic link reaches one again.</summary>
    public const int MaxEntries = 10_000;

    public static IReadOnlyList<(string RelativePath, FileInfo File)> ListFiles(string folder)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        if (!Directory.Exists(root))
        {
            throw new RecordingFormatException($"recording folder '{Path.GetFileName(root)}' does not exist (removed while it was being read?)");
        }

        var files = new List<(string, FileInfo)>();
        var visited = 0;
        Walk(root, root, "", 0, files, ref visited);
        return files;
    }

    private static void Walk(string root, string directory, string prefix, int depth, List<(string, FileInfo)> files, ref int visited)
    {
        if (depth > MaxDepth)
        {
            throw new RecordingFormatException($"{prefix}: folders nested too deeply");
        }

        IEnumerable<FileSystemInfo> entries;
        try
        {
            entries = new DirectoryInfo(directory).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RecordingFormatException($"{(prefix.Length == 0 ? "." : prefix)}: folder cannot be read ({IoProblem.Describe(e)})", e);
        }

        foreach (var entry in entries)
        {
            if (++visited > MaxEntries)
            {
                throw new RecordingFormatException(
                    $"the recording holds more than {MaxEntries} files and folders (counting each path a symbolic link adds); refused");
            }

            var relative = prefix + entry.Name;
            var path = entry.LinkTarget is null ? entry.FullName : LinkTargetInside(root, entry, relative);
            if (Directory.Exists(path))
            {
                Walk(root, path, relative + "/", depth + 1, files, ref visited);
            }
            else if (File.Exists(path))
            {
                files.Add((relative, new FileInfo(path)));
            }
            else
            {
                throw new RecordingFormatException($"{relative}: symbolic link target does not exist");
            }
        }
    }

    /// <summary>Whether the full path <paramref name="path"/> is <paramref name="folder"/> or lies under it.</summary>
    public static bool IsInside(string folder, string path) =>
        path.Equals(folder, StringComparison.Ordinal) ||
        path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static string LinkTargetInside(string root, FileSystemInfo link, string relative)
    {
        string target;
        try
        {
            target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(link.ResolveLinkTarget(returnFinalTarget: true)!.FullName));
        }
        catch (IOException e)
        {
            throw new RecordingFormatException($"{relative}: symbolic link cannot be resolved ({IoProblem.Describe(e)})", e);
        }

        if (!IsInside(root, target))
        {
            throw new RecordingFormatException($"{relative}: symbolic link points outside the recording folder; refused");
        }

        if (IsInside(target, Path.TrimEndingDirectorySeparator(link.FullName)))
        {
            throw new RecordingFormatException($"{relative}: symbolic link points at one of its own parent folders; refused");
        }

        return target;
    }
}
