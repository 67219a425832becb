using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;

namespace Recorder.Tests.EndToEnd;

/// <summary>Helpers shared by the end-to-end tests.</summary>
internal static class Replays
{
    /// <summary>Starts the run and reads every message until the terminal one.</summary>
    public static async Task<List<RecorderEnvelope>> RunToEndAsync(RecorderClient client)
    {
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
        await client.StartRecorderAsync(timeout.Token);
        return await ReadAllAsync(client, timeout.Token);
    }

    public static async Task<List<RecorderEnvelope>> ReadAllAsync(RecorderClient client, CancellationToken cancellationToken)
    {
        var messages = new List<RecorderEnvelope>();
        await foreach (var message in client.ReadMessagesAsync(cancellationToken))
        {
            messages.Add(message);
        }

        return messages;
    }

    /// <summary>
    /// Reads every message until the terminal one, running <paramref name="fault"/> once, right after the
    /// <paramref name="faultAfter"/>-th message (the run then goes on while the fault lasts).
    /// </summary>
    public static async Task<List<RecorderEnvelope>> ReadAllWithFaultAsync(
        RecorderClient client, int faultAfter, Func<Task> fault, CancellationToken cancellationToken)
    {
        var messages = new List<RecorderEnvelope>();
        await foreach (var message in client.ReadMessagesAsync(cancellationToken))
        {
            messages.Add(message);
            if (messages.Count == faultAfter)
            {
                await fault();
            }
        }

        return messages;
    }

    /// <summary>Asserts that the interaction's run is going and has raws still to write (a fault injected now hits a live run).</summary>
    public static async Task AssertRunningMidWayAsync(HubServer server, string interactionId, int totalRaws)
    {
        var state = (await server.QueryAsync<(string Status, long LastSeq)>(
            "SELECT status, last_seq FROM interactions WHERE interaction_id = @interactionId", new { interactionId })).Single();
        Assert.Equal("running", state.Status);
        Assert.InRange(state.LastSeq, 1, totalRaws - 2);
    }

    /// <summary>The statuses a run of the fixture folder must produce, derived from the recording itself.</summary>
    public static async Task<List<string>> ExpectedStatusesAsync(string folder)
    {
        var recording = await XAgentDiskReader.ReadAsync(folder, CancellationToken.None).WaitAsync(TestEnvironment.Timeout);
        return [RecorderStatus.Running, .. XAgentReplayMapper.Map(recording).Select(s => s.Status), RecorderStatus.Finished];
    }

    public static void AssertGapFreeFromOne(IReadOnlyList<RecorderEnvelope> messages)
    {
        Assert.Equal(Enumerable.Range(1, messages.Count).Select(i => (long)i), messages.Select(m => m.Seq));
    }
}
