namespace Recorder.Client;

/// <summary>The interaction was closed by the server (no client for longer than its grace period); it will write nothing more.</summary>
public sealed class RecorderInteractionClosedException(string interactionId)
    : Exception($"Interaction {interactionId} was closed by the server: no client was attached for longer than its grace period.")
{
    /// <summary>The closed interaction.</summary>
    public string InteractionId { get; } = interactionId;
}
