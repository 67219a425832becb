using System.Net;
using Recorder.Data.Users;

namespace Recorder.Hub.Auth;

/// <summary>
/// The original's check of a <c>user_id</c> and <c>token</c>, in its order and its words; used by the hub, the XAgent
/// web socket and the workspace API. Failed checks count against the user and the client address
/// (<see cref="FailedAuthentications"/>): past their budget the check refuses at once, without a lookup.
/// </summary>
public sealed class UserCheck(UserRepository users, FailedAuthentications failures)
{
    public const string NotExist = "user is not exist!";
    public const string NotAvailable = "user is not available!";
    public const string ProductionMode = "XAgentServer is running in production mode, if you want to use it, please contact the administrator.";

    /// <summary>Longest user id looked up; anything longer does not exist.</summary>
    private const int MaxUserIdLength = 256;

    /// <summary>
    /// Why the user may not go on, or null: <see cref="FailedAuthentications.Refusal"/> (too many failures of this user
    /// or from this address), <see cref="NotExist"/> (no such user, or deleted), <see cref="NotAvailable"/> (wrong
    /// token, or not available), then <paramref name="notBeta"/> for a user that is not <c>is_beta</c> (null lets such
    /// a user in).
    /// </summary>
    public async Task<string?> FailureAsync(string? userId, string? token, string? notBeta, IPAddress? address, CancellationToken cancellationToken)
    {
        var key = userId ?? "";
        if (failures.IsBlocked(key, address))
        {
            return FailedAuthentications.Refusal; // no lookup: guessing gets no answer at all for a while
        }

        var (failure, isBeta) = await CheckAsync(userId, token, cancellationToken);
        if (failure is not null)
        {
            failures.Record(key, address);
            return failure;
        }

        return isBeta ? null : notBeta;
    }

    /// <summary><see cref="NotExist"/> or <see cref="NotAvailable"/>, or no failure and whether the user is <c>is_beta</c>.</summary>
    private async Task<(string? Failure, bool IsBeta)> CheckAsync(string? userId, string? token, CancellationToken cancellationToken)
    {
        // PostgreSQL text cannot hold a NUL character, so no user has one; asking would fail the request with a 500.
        if (string.IsNullOrEmpty(userId) || userId.Length > MaxUserIdLength || userId.Contains('\0', StringComparison.Ordinal))
        {
            return (NotExist, false);
        }

        var user = await users.FindAsync(userId, cancellationToken);
        if (user is null || user.Deleted)
        {
            return (NotExist, false);
        }

        if (string.IsNullOrEmpty(token) || !TokenHash.Matches(token, user.TokenHash) || !user.Available)
        {
            return (NotAvailable, false);
        }

        return (null, user.IsBeta);
    }
}
