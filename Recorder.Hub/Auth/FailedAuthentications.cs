using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Recorder.Hub.Auth;

/// <summary>
/// Counts failed authentications per user_id and per client address. Once either is over its budget for the
/// window, authentication is refused at once, without looking the user up: a token cannot be guessed by trying,
/// neither for one user from many addresses nor for many users from one address.
/// </summary>
public sealed class FailedAuthentications : IDisposable
{
    public const string Refusal = "too many failed authentications; try again later.";

    private readonly PartitionedRateLimiter<string> _perUser;
    private readonly PartitionedRateLimiter<string> _perAddress;

    public FailedAuthentications(IOptions<AuthOptions> options)
    {
        var auth = options.Value;
        _perUser = Budget(auth.FailuresPerUser, auth.FailureWindow);
        _perAddress = Budget(auth.FailuresPerAddress, auth.FailureWindow);
    }

    /// <summary>Whether the user or the address has used up its failures for now.</summary>
    public bool IsBlocked(string userId, IPAddress? address) =>
        _perUser.GetStatistics(userId)?.CurrentAvailablePermits == 0 ||
        _perAddress.GetStatistics(AddressKey(address))?.CurrentAvailablePermits == 0;

    public void Record(string userId, IPAddress? address)
    {
        using var user = _perUser.AttemptAcquire(userId);
        using var from = _perAddress.AttemptAcquire(AddressKey(address));
    }

    public void Dispose()
    {
        _perUser.Dispose();
        _perAddress.Dispose();
    }

    private static string AddressKey(IPAddress? address) => address?.ToString() ?? "";

    private static PartitionedRateLimiter<string> Budget(int failures, TimeSpan window) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = failures,
            Window = window,
            QueueLimit = 0,
        }));
}
