using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// A redis-server of a test's own on a free loopback port below the ephemeral range (so that no client's outgoing
/// connection can take it while the server is down for a restart), which the test can restart. Each server leaves a
/// pid file naming the test process, so that the first server of a run kills those a killed earlier run left behind.
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private static readonly string PidFolder = Path.Combine(Path.GetTempPath(), "recorder-test-redis");
    private static readonly Lazy<bool> LeftoversKilled = new(KillLeftovers);
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    private RedisProcess(int port) => Port = port;

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false";

    private string PidFile => Path.Combine(PidFolder, $"{Environment.ProcessId}-{Port}.pid");

    public static async Task<RedisProcess> StartAsync()
    {
        _ = LeftoversKilled.Value;
        var redis = new RedisProcess(LoopbackPort.BelowEphemeral());
        await redis.StartProcessAsync();
        return redis;
    }

    /// <summary>Kills the server (no clean shutdown, no persistence) and starts a new one on the same port.</summary>
    public async Task RestartAsync(TimeSpan down)
    {
        Kill();
        await Task.Delay(down); // the outage itself, not a wait for a condition
        await StartProcessAsync();
    }

    /// <summary>Kills the server, leaving it down until <see cref="StartAgainAsync"/>.</summary>
    public void Stop() => Kill();

    /// <summary>Starts the server again on the same port after <see cref="Stop"/>.</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    private async Task StartProcessAsync()
    {
        Directory.CreateDirectory(PidFolder);
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList =
            {
                "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--pidfile", PidFile,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, line) => Keep(line.Data);
        _process.ErrorDataReceived += (_, line) => Keep(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        try
        {
            await Eventually.UntilAsync(() => Task.FromResult(LoopbackPort.Accepts(Port)), ok => ok, TestEnvironment.Timeout, $"redis-server on port {Port}");
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"{exception.Message}; its output:{Environment.NewLine}{string.Join(Environment.NewLine, _output)}", exception);
        }
    }

    /// <summary>The server's last lines of output, for the message of a start that failed.</summary>
    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 50 && _output.TryDequeue(out _))
        {
        }
    }

    private void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process?.Dispose();
        _process = null;
        File.Delete(PidFile);
    }

    /// <summary>Kills the servers whose test process is gone, by their pid files.</summary>
    private static bool KillLeftovers()
    {
        if (!Directory.Exists(PidFolder))
        {
            return true;
        }

        foreach (var file in Directory.EnumerateFiles(PidFolder, "*.pid"))
        {
            var owner = Path.GetFileNameWithoutExtension(file).Split('-')[0];
            if (!int.TryParse(owner, CultureInfo.InvariantCulture, out var ownerPid) || Directory.Exists($"/proc/{ownerPid}"))
            {
                continue;
            }

            if (int.TryParse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture, out var pid)
                && File.Exists($"/proc/{pid}/comm") && File.ReadAllText($"/proc/{pid}/comm").Trim() == "redis-server")
            {
                try
                {
                    using var leftover = Process.GetProcessById(pid);
                    leftover.Kill();
                }
                catch (Exception exception) when (exception is ArgumentException or InvalidOperationException)
                {
                    // gone meanwhile
                }
            }

            File.Delete(file);
        }

        return true;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }
}
