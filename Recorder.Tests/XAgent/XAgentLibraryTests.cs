using Recorder.Client.Contracts;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;

namespace Recorder.Tests.XAgent;

/// <summary>What the Recorder.XAgent library promises about itself.</summary>
public sealed class XAgentLibraryTests
{
    [Fact]
    public void TheLibraryDependsOnNothingButTheRuntime()
    {
        var references = typeof(XAgentDiskReader).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.NotEmpty(references);
        Assert.All(references, name => Assert.True(name == "System" || name.StartsWith("System.", StringComparison.Ordinal),
            $"Recorder.XAgent references {name}: it must need neither ASP.NET Core nor a database, nor another Recorder project"));
    }

    [Fact]
    public void TheStatusesTheMapperWritesAreTheWireStatuses()
    {
        Assert.Equal(
            [RecorderStatus.Start, RecorderStatus.Inner, RecorderStatus.SubtaskSubmit, RecorderStatus.Refinement, RecorderStatus.Subtask],
            [ReplayStatus.Start, ReplayStatus.Inner, ReplayStatus.SubtaskSubmit, ReplayStatus.Refinement, ReplayStatus.Subtask]);
    }
}
