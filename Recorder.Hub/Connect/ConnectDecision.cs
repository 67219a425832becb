using Recorder.Data.Interactions;

namespace Recorder.Hub.Connect;

/// <summary>What happened to a connect request: the interaction it is attached to (and whether it is new), or why it was refused.</summary>
/// <see cref="RefusalKind"/> names the refusal in a word (for the metrics): auth, client_id, recorder_dir, running,
/// other_user, too_many_interactions, too_many_connections, busy, not_ready.
public sealed record ConnectDecision(InteractionRow? Interaction, bool Created, string? Refusal, string? RefusalKind = null);
