using System.Globalization;
using Recorder.Tests.Infrastructure;
using Recorder.XAgent;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;
using Xunit.Abstractions;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// The hub's memory is bounded by bytes: a hub process of its own (so that its resident memory is only the hub's),
/// an interaction of notebook raws that each inline the same large picture, and many connections reading it from
/// seq 0 at once. Its peak resident memory over the reads (VmHWM, from a baseline taken after a warm-up replay) stays
/// under the bound the delivery options give (<see cref="Bound"/>), and every connection gets every seq once, in
/// order. Sized by <see cref="MemoryBoundOptions"/>; the figures are in docs/reliability.md.
/// </summary>
public sealed class MemoryBoundTests(HubServer server, ITestOutputHelper output) : TimedTest(TimeSpan.FromMinutes(5)), IClassFixture<HubServer>
{
    private const int PageBytes = 16 * 1024 * 1024;
    private const int OutboxBytes = 8 * 1024 * 1024;

    [Fact]
    public async Task ManyConnectionsResumingRawsWithLargePicturesFromZeroStayUnderTheHubsMemoryBound()
    {
        var options = MemoryBoundOptions.FromEnvironment();
        var name = $"memory_{Guid.NewGuid():N}";
        await server.ImportAsync(name, await PicturesAsync(options), Ct);
        var (user, token) = await server.NewUserAsync();

        // The replay runs in the test's own hub; the hub process only delivers it.
        string interactionId;
        IReadOnlyList<long> expected;
        await using (var replay = await PlainClient.ConnectAsync(server.HubUrl, user, token, name, Ct))
        {
            await replay.StartRecorderAsync(Ct);
            await replay.Ended.WaitAsync(Ct);
            interactionId = replay.InteractionId;
            expected = [.. replay.Raws.Select(r => r.Seq)];
        }

        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), expected);
        Assert.True(expected.Count > options.Notebooks, $"{expected.Count} raws");

        await using var hub = await HubProcess.StartAsync(server,
        [
            new("Recorder:Delivery:PageBytes", $"{PageBytes}"),
            new("Recorder:Delivery:OutboxBytes", $"{OutboxBytes}"),
            new("Recorder:Delivery:MaxInlinePictureBytes", $"{options.PictureBytes}"),
        ], Ct, Environment.GetEnvironmentVariable("RECORDER_MEMORY_HUB_ENV") is { Length: > 0 } env
            ? env.Split(';').Select(e => e.Split('=', 2)).Select(e => new KeyValuePair<string, string>(e[0], e[1]))
            : null);

        // Warm-up: one connection reads the whole interaction (the code paths run once, the picture is encoded and
        // cached, the pools and the GC's budgets are those of this work); the baseline is what the process holds then.
        var started = ProcessMemory.Resident(hub.ProcessId);
        await using (var warmUp = await SeqOnlyClient.ConnectAsync(hub.HubUrl, user, token, name, interactionId, Ct))
        {
            await warmUp.ReadAllAsync(interactionId, expected[^1], Ct);
            Assert.Equal(expected, warmUp.Seqs);
        }

        var warm = ProcessMemory.Peak(hub.ProcessId);
        var baseline = ProcessMemory.Resident(hub.ProcessId);
        ProcessMemory.ResetPeak(hub.ProcessId);
        var clock = DateTime.UtcNow;
        var clients = await Task.WhenAll(Enumerable.Range(0, options.Connections)
            .Select(_ => SeqOnlyClient.ConnectAsync(hub.HubUrl, user, token, name, interactionId, Ct)));
        try
        {
            var reads = Ct;
            await Task.WhenAll(clients.Select(c => c.ReadAllAsync(interactionId, expected[^1], reads)));
            var peak = ProcessMemory.Peak(hub.ProcessId);
            var bound = Bound(baseline, options);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{options.Notebooks} notebook raws ({expected.Count} raws) x {options.PictureBytes / 1048576.0:0.#} MiB picture x {options.Connections} connections " +
                $"in {(DateTime.UtcNow - clock).TotalSeconds:0.0} s: started at {Mib(started)} MiB, one connection's read peaked at {Mib(warm)} MiB; baseline {Mib(baseline)} MiB, peak {Mib(peak)} MiB (+{Mib(peak - baseline)}), bound {Mib(bound)} MiB"));
            Assert.All(clients, c => Assert.True(c.CloseMessage is null && c.Seqs.SequenceEqual(expected),
                $"{c.Seqs.Count} seqs, close: {c.CloseMessage}; {hub.Output}"));
            Assert.True(peak <= bound, $"peak {Mib(peak)} MiB over the bound of {Mib(bound)} MiB (baseline {Mib(baseline)} MiB)");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// What the delivery design lets the reads add to the baseline. M is one envelope with the picture inlined (its
    /// base64 text, a byte a character in UTF-8). Shared by all: the picture encoded once (the cache holds the base64
    /// string, two bytes a character: 2M) and a page of envelopes being read (cut at <see cref="PageBytes"/>, plus the
    /// raw that crosses it). Per connection: its outbox (cut at <see cref="OutboxBytes"/>, plus the raw that crosses
    /// it) and the message being written, which the transport holds three times while it goes out (SignalR's
    /// serialized frame in the connection's pipe, the WebSocket's send buffer, Kestrel's output blocks: 3M). All of it
    /// doubled: for what the GC has not yet collected (measured: half as much again at 20 connections), and a busy machine.
    /// </summary>
    private static long Bound(long baseline, MemoryBoundOptions options)
    {
        long message = (options.PictureBytes + 2) / 3 * 4;
        var shared = (2 * message) + PageBytes + message;
        var perConnection = OutboxBytes + message + (3 * message);
        return baseline + (2 * (shared + (options.Connections * perConnection)));
    }

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0", CultureInfo.InvariantCulture);

    /// <summary>multi_subtask whose notebook call (plot.png) runs <see cref="MemoryBoundOptions.Notebooks"/> times, plot.png being the large picture.</summary>
    private async Task<XAgentRecording> PicturesAsync(MemoryBoundOptions options)
    {
        var recording = await XAgentDiskReader.ReadAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"), Ct);
        var notebook = recording.ToolCalls.Single(c => c.ToolName == XAgentReplayMapper.NotebookTool);
        var picture = new byte[options.PictureBytes];
        Random.Shared.NextBytes(picture);
        return recording with
        {
            ToolCalls = [.. recording.ToolCalls.SelectMany(c => c == notebook ? Enumerable.Repeat(c, options.Notebooks) : [c])],
            Workspace = [.. recording.Workspace.Select(f => f.Name == "plot.png" ? new WorkspaceFile(f.Name, picture) : f)],
        };
    }
}
