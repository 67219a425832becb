using Recorder.Data.Interactions;
using Recorder.Data.Workspace;

namespace Recorder.Hub.Retention;

/// <summary>
/// Deletes old interactions (finished, failed or closed; never waiting or running ones) with their raws and workspace
/// file rows, in bounded batches, then the workspace contents no file names any more. Used by
/// <c>interactions prune</c> and by <see cref="RetentionService"/>; two prunes at once are safe (each skips the rows
/// the other has locked).
/// </summary>
public sealed class InteractionPruner(InteractionRepository interactions, WorkspaceRepository workspace)
{
    public const int DefaultBatchSize = 100;

    /// <summary>The most interactions (and contents) one prune transaction may take.</summary>
    public const int MaxBatchSize = 10_000;

    public async Task<PruneReport> PruneAsync(TimeSpan olderThan, int batchSize, CancellationToken cancellationToken)
    {
        var pruned = await interactions.PruneAsync(olderThan, batchSize, cancellationToken);
        var contents = await workspace.DeleteUnreferencedAsync(batchSize, cancellationToken);
        return new PruneReport(pruned.Interactions, pruned.Raws, pruned.WorkspaceFiles, contents.Count, contents.Bytes, pruned.Batches);
    }
}
