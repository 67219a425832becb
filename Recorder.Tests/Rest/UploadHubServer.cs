using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Rest;

/// <summary>A hub with small upload limits, so that the tests can cross each one with a small zip.</summary>
public sealed class UploadHubServer : HubServer
{
    public const long MaxUploadBytes = 1024 * 1024;
    public const int MaxEntries = 100;
    public const long MaxExpandedBytes = 2 * 1024 * 1024;

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Recorder:Upload:MaxUploadBytes", MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Recorder:Upload:MaxEntries", MaxEntries.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Recorder:Upload:MaxExpandedBytes", MaxExpandedBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];
}
