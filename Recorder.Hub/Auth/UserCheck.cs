using Recorder.Data.Users;

namespace Recorder.Hub.Auth;

/// <summary>The original's check of a <c>user_id</c> and <c>token</c>, in its order and its words; used by the hub, the XAgent web socket and the workspace API.</summary>
public static class UserCheck
{
    public const string NotExist = "user is not exist!";
    public const string NotAvailable = "user is not available!";
    public const string ProductionMode = "XAgentServer is running in production mode, if you want to use it, please contact the administrator.";

    /// <summary>Longest user id looked up; anything longer does not exist.</summary>
    private const int MaxUserIdLength = 256;

    /// <summary>
    /// Why the user may not go on, or null: <see cref="NotExist"/> (no such user, or deleted), <see cref="NotAvailable"/>
    /// (wrong token, or not available), then <paramref name="notBeta"/> for a user that is not <c>is_beta</c> (null lets
    /// such a user in).
    /// </summary>
    public static async Task<string?> FailureAsync(UserRepository users, string? userId, string? token, string? notBeta, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(users);
        if (string.IsNullOrEmpty(userId) || userId.Length > MaxUserIdLength)
        {
            return NotExist;
        }

        var user = await users.FindAsync(userId, cancellationToken);
        if (user is null || user.Deleted)
        {
            return NotExist;
        }

        if (string.IsNullOrEmpty(token) || !TokenHash.Matches(token, user.TokenHash) || !user.Available)
        {
            return NotAvailable;
        }

        return user.IsBeta ? null : notBeta;
    }
}
