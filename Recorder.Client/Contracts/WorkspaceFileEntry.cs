namespace Recorder.Client.Contracts;

/// <summary>One entry of <see cref="RecorderEnvelope.WorkspaceFileList"/>.</summary>
/// <param name="Name">The file name inside the workspace.</param>
/// <param name="Suffix">The text after the last dot of the name (the whole name when it has no dot).</param>
public sealed record WorkspaceFileEntry(string Name, string Suffix)
{
    /// <summary>The entry of the workspace file <paramref name="name"/>.</summary>
    public static WorkspaceFileEntry Named(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new(name, name.LastIndexOf('.') is var dot and >= 0 ? name[(dot + 1)..] : name);
    }
}
