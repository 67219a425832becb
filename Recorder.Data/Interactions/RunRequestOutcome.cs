namespace Recorder.Data.Interactions;

/// <summary>What a run request did: whether it marked the run as wanted, and the lease it took at once, if it took one.</summary>
public sealed record RunRequestOutcome(bool Requested, RunClaim? Claim);
