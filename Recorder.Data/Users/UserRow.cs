namespace Recorder.Data.Users;

/// <summary>What the connect check reads of a user (the table keeps the original's other columns: email, name, times).</summary>
public sealed class UserRow
{
    public required string UserId { get; init; }
    public required byte[] TokenHash { get; init; }
    public bool Available { get; init; }
    public bool IsBeta { get; init; }
    public bool Deleted { get; init; }
}
