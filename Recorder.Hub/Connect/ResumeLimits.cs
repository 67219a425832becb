using System.Threading.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Recorder.Hub.Auth;
using Recorder.Hub.Presence;

namespace Recorder.Hub.Connect;

/// <summary>
/// What one connection may ask of <c>Resume</c>: so many calls per second (each moves a cursor and may read a page
/// of raws), and so many interactions attached at once. Over a limit the call fails with the reason; nothing changes.
/// </summary>
public sealed class ResumeLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string> _calls;
    private readonly LocalConnections _local;
    private readonly int _interactionsPerConnection;

    public ResumeLimits(IOptions<AuthOptions> options, LocalConnections local)
    {
        var auth = options.Value;
        _local = local;
        _interactionsPerConnection = auth.InteractionsPerConnection;
        _calls = PartitionedRateLimiter.Create<string, string>(connectionId => RateLimitPartition.GetTokenBucketLimiter(connectionId, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = 2 * auth.ResumesPerConnectionPerSecond,
            TokensPerPeriod = auth.ResumesPerConnectionPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
        }));
    }

    /// <summary>Throws a <see cref="HubException"/> when this call is over a limit.</summary>
    public void Check(string connectionId, string interactionId)
    {
        using var lease = _calls.AttemptAcquire(connectionId);
        if (!lease.IsAcquired)
        {
            throw new HubException("too many Resume calls on this connection; wait a moment and try again.");
        }

        if (!_local.IsAttached(connectionId, interactionId) && _local.CountOf(connectionId) >= _interactionsPerConnection)
        {
            throw new HubException(
                $"this connection is attached to {_interactionsPerConnection} interactions, the most allowed; open another connection.");
        }
    }

    public void Dispose() => _calls.Dispose();
}
