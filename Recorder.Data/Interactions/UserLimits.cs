namespace Recorder.Data.Interactions;

/// <summary>What one user may hold at once: interactions not yet over, and connections attached to their interactions.</summary>
public sealed record UserLimits(int LiveInteractions, int Connections)
{
    /// <summary>No practical limit (tools and tests that connect directly).</summary>
    public static UserLimits None { get; } = new(int.MaxValue, int.MaxValue);
}
