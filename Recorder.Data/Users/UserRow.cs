namespace Recorder.Data.Users;

public sealed class UserRow
{
    public required string UserId { get; init; }
    public string Name { get; init; } = "";
    public required byte[] TokenHash { get; init; }
    public bool Available { get; init; }
    public bool IsBeta { get; init; }
    public bool Deleted { get; init; }
    public DateTime CreateTime { get; init; }
    public DateTime UpdateTime { get; init; }
}
