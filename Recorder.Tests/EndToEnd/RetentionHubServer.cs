using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A hub with automatic retention: interactions finished for longer than an hour go, every second.</summary>
public sealed class RetentionHubServer : HubServer
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Recorder:Retention:MaxAge", "60m"),
        new("Recorder:Retention:Interval", "00:00:01"),
    ];
}
