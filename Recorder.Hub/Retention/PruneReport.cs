using System.Globalization;

namespace Recorder.Hub.Retention;

/// <summary>What one prune deleted.</summary>
public sealed record PruneReport(int Interactions, long Raws, int WorkspaceFiles, int Contents, long ContentBytes, int Batches)
{
    /// <summary>One line for an operator.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"deleted {Interactions} interactions in {Batches} batches, {Raws} raws, {WorkspaceFiles} workspace files and {Contents} unreferenced file contents ({ContentBytes} bytes)");
}
