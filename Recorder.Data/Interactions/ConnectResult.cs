namespace Recorder.Data.Interactions;

/// <summary>What a connect did: the interaction it created or re-attached to, or why it did neither.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Interaction">The interaction as it is now, after the attach; null unless created or re-attached.</param>
public sealed record ConnectResult(ConnectOutcome Outcome, InteractionRow? Interaction);
