using System.Diagnostics;
using Recorder.Tests.EndToEnd;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Client;

/// <summary>The sample under samples/ is a working program: run as a process, it replays a recording to its end.</summary>
public sealed class SampleTests(HubServer server) : IClassFixture<HubServer>
{
    [Fact]
    public async Task TheSampleReplaysARecordingAndPrintsEveryRawInOrder()
    {
        var (user, token) = await server.NewUserAsync();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(SampleDll());
        foreach (var argument in new[] { server.HubUrl.ToString(), user, token, "multi_subtask" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TestEnvironment.Timeout);

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await error}");
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.StartsWith("interaction ", lines[0], StringComparison.Ordinal);
        var seqs = lines.Skip(1).Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), seqs);
        Assert.Contains(" finished ", lines[^1], StringComparison.Ordinal);
    }

    /// <summary>The sample's build output for this configuration (bin/Release/net10.0 beside the tests' own).</summary>
    private static string SampleDll()
    {
        var tests = new DirectoryInfo(AppContext.BaseDirectory); // .../Recorder.Tests/bin/<Configuration>/<tfm>/
        var framework = tests.Name;
        var configuration = tests.Parent!.Name;
        var root = tests.Parent.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(root, "samples", "Recorder.Sample", "bin", configuration, framework, "Recorder.Sample.dll");
    }
}
