using System.Collections.Concurrent;
using System.Diagnostics;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// Debian's nginx as a non-daemon child process on a free loopback port, with the repository's
/// deploy/nginx/recorder.conf.template (the file deploy/local/cluster.sh and deploy/compose.yml use) in front of the
/// given hubs. Everything it writes (pid, logs, temp files) is in a temp folder, so it needs no root.
/// </summary>
public sealed class NginxProcess : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/nginx";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly string _prefix;

    private NginxProcess(Process process, string prefix, Uri baseUrl)
    {
        _process = process;
        _prefix = prefix;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public Uri HubUrl => new(BaseUrl, Recorder.Client.Contracts.RecorderProtocol.HubPath);

    /// <summary>deploy/nginx in the repository (found upwards from the test assembly).</summary>
    public static string ConfigFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "deploy", "nginx");
                if (File.Exists(Path.Combine(candidate, "recorder.conf.template")))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException($"deploy/nginx/recorder.conf.template not found above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>Renders a template the way envsubst with an explicit variable list does: only the named ${VARS}.</summary>
    public static string Render(string template, IReadOnlyDictionary<string, string> values) =>
        values.Aggregate(template, (text, value) => text.Replace("${" + value.Key + "}", value.Value, StringComparison.Ordinal));

    public static async Task<NginxProcess> StartAsync(IReadOnlyList<Uri> hubs, CancellationToken cancellationToken)
    {
        if (!File.Exists(Binary))
        {
            Assert.Fail($"nginx is not installed ({Binary} is missing): apt-get install -y --no-install-recommends nginx");
        }

        var port = LoopbackPort.Any();
        var prefix = Path.Combine(Path.GetTempPath(), $"recorder-nginx-{Guid.NewGuid():N}");
        Directory.CreateDirectory(prefix);
        var folder = ConfigFolder;
        var values = new Dictionary<string, string>
        {
            ["RECORDER_NGINX_PREFIX"] = prefix,
            ["RECORDER_NGINX_LISTEN"] = $"127.0.0.1:{port}",
            ["RECORDER_HUB_1"] = hubs[0].Authority,
            ["RECORDER_HUB_2"] = hubs[1].Authority,
        };
        await File.WriteAllTextAsync(Path.Combine(prefix, "nginx.conf"),
            Render(await File.ReadAllTextAsync(Path.Combine(folder, "main.conf.template"), cancellationToken), values), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(prefix, "recorder.conf"),
            Render(await File.ReadAllTextAsync(Path.Combine(folder, "recorder.conf.template"), cancellationToken), values), cancellationToken);

        var start = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-p", prefix, "-c", Path.Combine(prefix, "nginx.conf"), "-g", "daemon off;" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("nginx did not start");
        var nginx = new NginxProcess(process, prefix, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, line) => nginx.Keep(line.Data);
        process.ErrorDataReceived += (_, line) => nginx.Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await HealthProbe.UntilHealthyAsync(process, nginx.BaseUrl, "nginx", () => nginx.Output, cancellationToken);
            return nginx;
        }
        catch
        {
            await nginx.DisposeAsync();
            throw;
        }
    }

    /// <summary>nginx's output and error log, for failure messages.</summary>
    public string Output
    {
        get
        {
            var log = Path.Combine(_prefix, "error.log");
            return string.Join(Environment.NewLine, _output) + (File.Exists(log) ? Environment.NewLine + File.ReadAllText(log) : "");
        }
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_prefix, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
