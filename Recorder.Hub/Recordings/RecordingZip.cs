using System.IO.Compression;

namespace Recorder.Hub.Recordings;

/// <summary>
/// Extracts an uploaded zip of an XAgent recording folder into a fresh temporary folder, refusing entries that would
/// leave it (absolute paths, <c>..</c>, drive letters), symbolic links, more entries or expanded bytes than allowed.
/// </summary>
public static class RecordingZip
{
    private const int UnixFileTypeMask = 0xF000;
    private const int UnixSymlink = 0xA000;

    /// <summary>
    /// Extracts <paramref name="zip"/> under <paramref name="target"/> (which must exist and be empty) and returns the
    /// recording folder: <paramref name="target"/> when it holds <c>query.json</c>, else its only subfolder.
    /// </summary>
    public static async Task<string> ExtractAsync(Stream zip, string target, RecordingUploadOptions limits, CancellationToken cancellationToken)
    {
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException exception)
        {
            throw new RecordingUploadException(StatusCodes.Status400BadRequest, $"the body is not a zip archive: {exception.Message}");
        }

        using (archive)
        {
            if (archive.Entries.Count > limits.MaxEntries)
            {
                throw new RecordingUploadException(StatusCodes.Status413PayloadTooLarge,
                    $"the zip holds {archive.Entries.Count} entries; at most {limits.MaxEntries} are allowed (Recorder:Upload:MaxEntries)");
            }

            var root = Path.GetFullPath(target) + Path.DirectorySeparatorChar;
            long expanded = 0;
            var buffer = new byte[81920];
            foreach (var entry in archive.Entries)
            {
                var name = entry.FullName;
                if (name.Length == 0 || name.Contains('\\', StringComparison.Ordinal) || name.StartsWith('/') || name.Contains(':', StringComparison.Ordinal)
                    || name.Split('/').Any(part => part is ".."))
                {
                    throw new RecordingUploadException(StatusCodes.Status400BadRequest, $"zip entry '{name}' is not a plain relative path inside the folder");
                }

                if (((entry.ExternalAttributes >> 16) & UnixFileTypeMask) == UnixSymlink)
                {
                    throw new RecordingUploadException(StatusCodes.Status400BadRequest, $"zip entry '{name}' is a symbolic link; links are not accepted");
                }

                var path = Path.GetFullPath(Path.Combine(root, name));
                if (!path.StartsWith(root, StringComparison.Ordinal) && path + Path.DirectorySeparatorChar != root)
                {
                    throw new RecordingUploadException(StatusCodes.Status400BadRequest, $"zip entry '{name}' would be written outside the folder");
                }

                if (name.EndsWith('/'))
                {
                    Directory.CreateDirectory(path);
                    continue;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                Stream source;
                try
                {
                    source = await entry.OpenAsync(cancellationToken);
                }
                catch (InvalidDataException exception)
                {
                    throw new RecordingUploadException(StatusCodes.Status400BadRequest, $"zip entry '{name}' cannot be read: {exception.Message}");
                }

                await using (source)
                await using (var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
                {
                    try
                    {
                        int read;
                        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                        {
                            expanded += read;
                            if (expanded > limits.MaxExpandedBytes)
                            {
                                throw new RecordingUploadException(StatusCodes.Status413PayloadTooLarge,
                                    $"the zip expands to more than {limits.MaxExpandedBytes} bytes (Recorder:Upload:MaxExpandedBytes)");
                            }

                            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                        }
                    }
                    catch (InvalidDataException exception)
                    {
                        throw new RecordingUploadException(StatusCodes.Status400BadRequest, $"zip entry '{name}' cannot be read: {exception.Message}");
                    }
                }
            }
        }

        if (File.Exists(Path.Combine(target, "query.json")))
        {
            return target;
        }

        var folders = Directory.GetDirectories(target);
        return folders.Length == 1 && Directory.GetFiles(target).Length == 0 && File.Exists(Path.Combine(folders[0], "query.json"))
            ? folders[0]
            : throw new RecordingUploadException(StatusCodes.Status400BadRequest,
                "the zip is not an XAgent recording folder: query.json is neither at its top nor in its only folder");
    }
}
