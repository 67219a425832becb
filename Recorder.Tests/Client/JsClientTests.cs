using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Recorder.Tests.EndToEnd;
using Recorder.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Recorder.Tests.Client;

/// <summary>
/// The JavaScript client (clients/js, as built by Recorder.Hub's build) under Node.js against the real hub: the
/// package's own transport (`@microsoft/signalr` with the `ws` WebSocket, no negotiate request), reconnect and Resume.
/// </summary>
public sealed class JsClientTests(PacedHubServer server, ITestOutputHelper output) : IClassFixture<PacedHubServer>
{
    [Fact]
    public async Task UnderNodeItReadsEverySeqOnceInOrderAcrossACutConnection()
    {
        var (user, token) = await server.NewUserAsync();
        var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));
        await using var proxy = new TcpProxy(server.BaseUrl);
        await using var node = NodeScript.Start(output, $"http://127.0.0.1:{proxy.Port}/hubs/recorder", user, token, PacedHubServer.Recording);

        string? interactionId = null;
        var raws = new List<(long Seq, string Status)>();
        var events = new List<string>();
        var dropped = false;
        long lastBeforeCut = -1;
        while (true)
        {
            var line = await node.NextAsync();
            var kind = line.GetProperty("event").GetString()!;
            events.Add(kind == "resumed" ? $"resumed {line.GetProperty("after").GetInt64()}" : kind);
            if (kind == "reconnecting")
            {
                lastBeforeCut = raws[^1].Seq;
            }

            Assert.NotEqual("failed", kind);
            if (kind == "end")
            {
                break;
            }

            if (kind == "connected")
            {
                interactionId = line.GetProperty("interactionId").GetString()!;
                Assert.Matches("^[0-9a-f]{32}$", interactionId);
                Assert.Equal("waiting", line.GetProperty("status").GetString());
            }

            if (kind != "raw")
            {
                continue;
            }

            Assert.NotNull(interactionId);

            Assert.Equal(interactionId, line.GetProperty("interactionId").GetString());
            raws.Add((line.GetProperty("seq").GetInt64(), line.GetProperty("status").GetString()!));
            if (raws.Count == 3 && !dropped)
            {
                await Replays.AssertRunningMidWayAsync(server, interactionId, expected.Count);
                proxy.DropConnections();
                dropped = true;
            }
        }

        Assert.Equal(0, await node.ExitCodeAsync());
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), raws.Select(r => r.Seq));
        Assert.Equal(expected, raws.Select(r => r.Status));
        // The first Resume after the connect, the second after the cut, from the last seq it had then (3, or one
        // more if the next raw was in flight when the proxy cut the connection), mid-run.
        Assert.InRange(lastBeforeCut, 3, expected.Count - 2);
        Assert.Equal(["resumed 0", "connected", "reconnecting", "reconnected", $"resumed {lastBeforeCut}"], events.Where(e => e is not "raw" and not "end"));
    }

    [Fact]
    public async Task UnderNodeARefusalRejectsWithTheServersText()
    {
        var (user, _) = await server.NewUserAsync();
        await using var node = NodeScript.Start(output, server.HubUrl.ToString(), user, "not-the-token", "multi_subtask");
        var failed = await node.NextAsync("failed");
        Assert.Equal("RecorderConnectionRefusedError", failed.GetProperty("name").GetString());
        Assert.Equal("user is not available!", failed.GetProperty("message").GetString());
        Assert.Equal(2, await node.ExitCodeAsync());
    }

    /// <summary><c>node clients/js/test/integration/replay.mjs ...</c>, one JSON object per line of its output.</summary>
    private sealed class NodeScript : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Channel<JsonElement> _lines = Channel.CreateUnbounded<JsonElement>();
        private readonly ITestOutputHelper _output;

        private NodeScript(Process process, ITestOutputHelper output)
        {
            _process = process;
            _output = output;
        }

        public static NodeScript Start(ITestOutputHelper output, params string[] args)
        {
            var package = PackageDirectory();
            Assert.True(File.Exists(Path.Combine(package, "dist", "index.js")), $"{package}/dist/index.js is missing: Recorder.Hub's build makes it (npm run build in clients/js)");
            var start = new ProcessStartInfo("node") { WorkingDirectory = package, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("test/integration/replay.mjs");
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
            var script = new NodeScript(process, output);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    script._lines.Writer.TryComplete();
                    return;
                }

                script.Log("node: " + e.Data);
                using var json = JsonDocument.Parse(e.Data);
                script._lines.Writer.TryWrite(json.RootElement.Clone());
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    script.Log("node stderr: " + e.Data);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return script;
        }

        /// <summary>The next line (of the given event, skipping others).</summary>
        public async Task<JsonElement> NextAsync(string? kind = null)
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync().AsTask().WaitAsync(TestEnvironment.Timeout);
                if (kind is null || line.GetProperty("event").GetString() == kind)
                {
                    return line;
                }
            }
        }

        public async Task<int> ExitCodeAsync()
        {
            await _process.WaitForExitAsync().WaitAsync(TestEnvironment.Timeout);
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync().WaitAsync(TestEnvironment.Timeout);
            }

            _process.Dispose();
        }

        private void Log(string line)
        {
            try
            {
                _output.WriteLine(line);
            }
            catch (InvalidOperationException)
            {
                // the test has finished
            }
        }

        /// <summary>clients/js of the checkout the tests were built from (the test assembly sits under Recorder.Tests/bin).</summary>
        private static string PackageDirectory()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "clients", "js");
                if (File.Exists(Path.Combine(candidate, "package.json")))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException($"no clients/js above {AppContext.BaseDirectory}");
        }
    }
}
