namespace Recorder.Hub.Runs;

/// <summary>This hub process, as run leases and connection records name it.</summary>
public sealed class InstanceIdentity
{
    public string Id { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
}
