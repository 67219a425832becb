namespace Recorder.Hub.Rest;

/// <summary>A page of <c>GET /api/interactions</c>: the interactions, and the offset of the next page (null on the last).</summary>
public sealed record InteractionsPage(IReadOnlyList<InteractionSummary> Interactions, int Offset, int Limit, int? NextOffset);
