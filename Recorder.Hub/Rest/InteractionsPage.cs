namespace Recorder.Hub.Rest;

/// <summary>
/// A page of <c>GET /api/interactions</c>: the interactions, the limit, and the cursor of the next page (null on the
/// last), to pass back as <c>cursor</c>.
/// </summary>
public sealed record InteractionsPage(IReadOnlyList<InteractionSummary> Interactions, int Limit, string? Next);
