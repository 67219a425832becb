using System.ComponentModel.DataAnnotations;

namespace Recorder.Hub.Auth;

/// <summary>
/// <c>Recorder:Auth</c>: who may connect and how much one user, address or connection may ask for. Every limit
/// refuses with a clear reason and changes nothing.
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Recorder:Auth";

    /// <summary>Refuse a user who already has a waiting or running interaction (re-attaching to it is allowed).</summary>
    public bool CheckRunning { get; set; } = true;

    /// <summary>Connect requests (SignalR's negotiate and transport requests each count) per user_id per minute.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Recorder:Auth:ConnectsPerUserPerMinute must be between 1 and 1000000.")]
    public int ConnectsPerUserPerMinute { get; set; } = 120;

    /// <summary>
    /// Connect requests per client address per minute, whatever the user. Behind a proxy every client has the
    /// proxy's address unless forwarded headers are configured: raise it there.
    /// </summary>
    [Range(1, 10_000_000, ErrorMessage = "Recorder:Auth:ConnectsPerAddressPerMinute must be between 1 and 10000000.")]
    public int ConnectsPerAddressPerMinute { get; set; } = 1200;

    /// <summary>Failed authentications of one user_id per <see cref="FailureWindow"/> before it is refused without a lookup.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Recorder:Auth:FailuresPerUser must be between 1 and 1000000.")]
    public int FailuresPerUser { get; set; } = 10;

    /// <summary>Failed authentications from one client address per <see cref="FailureWindow"/>, whatever the user_id.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Recorder:Auth:FailuresPerAddress must be between 1 and 1000000.")]
    public int FailuresPerAddress { get; set; } = 100;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Recorder:Auth:FailureWindow must be between 1 second and 1 day.")]
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Interactions of one user not yet over (waiting or running) at once; matters when CheckRunning is off.</summary>
    [Range(1, 100_000, ErrorMessage = "Recorder:Auth:LiveInteractionsPerUser must be between 1 and 100000.")]
    public int LiveInteractionsPerUser { get; set; } = 10;

    /// <summary>Attached connections of one user at once, over all instances.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Recorder:Auth:ConnectionsPerUser must be between 1 and 1000000.")]
    public int ConnectionsPerUser { get; set; } = 100;

    /// <summary><c>Resume</c> calls one connection may make per second (a burst of twice as many is allowed).</summary>
    [Range(1, 100_000, ErrorMessage = "Recorder:Auth:ResumesPerConnectionPerSecond must be between 1 and 100000.")]
    public int ResumesPerConnectionPerSecond { get; set; } = 10;

    /// <summary>Interactions one connection may be attached to (its own and those it resumes).</summary>
    [Range(1, 10_000, ErrorMessage = "Recorder:Auth:InteractionsPerConnection must be between 1 and 10000.")]
    public int InteractionsPerConnection { get; set; } = 16;
}
