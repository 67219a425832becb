namespace Recorder.Data.Interactions;

/// <summary>What <see cref="InteractionRepository.PruneAsync"/> deleted, and in how many transactions.</summary>
public sealed record InteractionsPruned(int Interactions, long Raws, int WorkspaceFiles, int Batches);
