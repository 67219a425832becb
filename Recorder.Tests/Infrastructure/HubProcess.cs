using System.Collections.Concurrent;
using System.Diagnostics;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// The hub as a process of its own (<c>dotnet Recorder.Hub.dll</c> with a test server's settings), so that a test can
/// kill it with SIGKILL: no shutdown code runs, its database sessions and its rows are left for the survivors.
/// </summary>
public sealed class HubProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private HubProcess(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public Uri HubUrl => new(BaseUrl, Recorder.Client.Contracts.RecorderProtocol.HubPath);

    /// <summary>The process id, which the instance's id (run_owner, hub_instances) carries: host/pid/guid.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The process's last lines of output, for a failure message.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Starts the process with <paramref name="overrides"/> on top of <paramref name="server"/>'s settings (and <paramref name="environment"/> added to its environment).</summary>
    public static async Task<HubProcess> StartAsync(HubServer server, IEnumerable<KeyValuePair<string, string>> overrides, CancellationToken cancellationToken,
        IEnumerable<KeyValuePair<string, string>>? environment = null)
    {
        var port = LoopbackPort.Any();
        var baseUrl = new Uri($"http://127.0.0.1:{port}/");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Recorder.Hub.dll"));
        foreach (var argument in server.Arguments([.. overrides, new("urls", baseUrl.ToString().TrimEnd('/'))]))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? [])
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("the hub process did not start");
        var hub = new HubProcess(process, baseUrl);
        process.OutputDataReceived += (_, line) => hub.Keep(line.Data);
        process.ErrorDataReceived += (_, line) => hub.Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await HealthProbe.UntilHealthyAsync(process, baseUrl, "the hub process", () => hub.Output, cancellationToken);
            return hub;
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL: the process ends at once, without running any of its shutdown code.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 100 && _output.TryDequeue(out _))
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
