using Recorder.XAgent.Disk;

namespace Recorder.Hub.Recordings;

/// <summary>
/// The rules for a <c>recorder_dir</c>: a relative name inside the recordings root. It names a folder under the
/// root, a <c>running_record</c> record id, or a past interaction id, so the same rules hold for all three.
/// </summary>
public static class RecorderDir
{
    public const int MaxLength = 512;

    /// <summary>Null when <paramref name="recorderDir"/> is acceptable, else the reason it is refused.</summary>
    public static string? Validate(string? recorderDir)
    {
        if (string.IsNullOrWhiteSpace(recorderDir))
        {
            return "recorder_dir is required: name the recording to replay.";
        }

        if (recorderDir.Length > MaxLength)
        {
            return $"recorder_dir is longer than {MaxLength} characters.";
        }

        if (recorderDir.Any(char.IsControl))
        {
            return "recorder_dir must not contain control characters.";
        }

        if (recorderDir.StartsWith('/') || recorderDir.StartsWith('\\') || recorderDir.StartsWith('~') || Path.IsPathRooted(recorderDir)
            || (recorderDir.Length > 1 && recorderDir[1] == ':'))
        {
            return "recorder_dir must be a path relative to the recordings root, not an absolute path.";
        }

        var segments = recorderDir.Split('/', '\\');
        if (segments.Any(s => s is ".." or "." or ""))
        {
            return "recorder_dir must not contain '..', '.' or empty path segments: it must stay inside the recordings root.";
        }

        return null;
    }

    /// <summary>
    /// The full path of the folder <paramref name="recorderDir"/> names under <paramref name="root"/>, or null when
    /// there is no such folder. Throws <see cref="RecorderDirException"/> when the path, after following symbolic
    /// links, leaves the root.
    /// </summary>
    public static string? ResolveFolder(string root, string recorderDir)
    {
        var error = Validate(recorderDir);
        if (error is not null)
        {
            throw new RecorderDirException(error);
        }

        var fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var realRoot = RealPath(fullRoot);
        var candidate = Path.GetFullPath(Path.Combine(fullRoot, recorderDir));
        if (!RecordingFolderWalker.IsInside(fullRoot, candidate))
        {
            throw new RecorderDirException("recorder_dir must stay inside the recordings root.");
        }

        if (!Directory.Exists(candidate))
        {
            return null;
        }

        if (!RecordingFolderWalker.IsInside(realRoot, RealPath(candidate)))
        {
            throw new RecorderDirException("recorder_dir leads outside the recordings root through a symbolic link.");
        }

        return candidate;
    }

    /// <summary>The path with every symbolic link along it resolved.</summary>
    private static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            var info = new DirectoryInfo(current);
            if (info.Exists && info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                current = target is null ? current : RealPath(target.FullName);
            }
        }

        return current;
    }
}
