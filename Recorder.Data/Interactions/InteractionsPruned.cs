namespace Recorder.Data.Interactions;

/// <summary>What <see cref="InteractionRepository.PruneAsync"/> deleted.</summary>
public sealed record InteractionsPruned(int Interactions, long Raws, int WorkspaceFiles);
