using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Hostile;

/// <summary>A hub whose recordings root also holds <c>escape</c>, a symbolic link to a folder outside the root.</summary>
public sealed class HostileConnectServer : HubServer
{
    public string Outside { get; } = Path.Combine(Path.GetTempPath(), $"recorder-outside-{Guid.NewGuid():N}");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Directory.CreateDirectory(Outside);
        HubServer.CopyDirectory(Path.Combine(RecordingsRoot, "multi_subtask"), Outside);
        Directory.CreateSymbolicLink(Path.Combine(RecordingsRoot, "escape"), Outside);
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            Directory.Delete(Outside, recursive: true);
        }
    }
}
