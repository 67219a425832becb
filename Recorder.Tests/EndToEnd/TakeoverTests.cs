using Dapper;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Data.Recordings;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A run taken over by another instance replays the version of its recording it began with, or stops.</summary>
public sealed class TakeoverTests(NoRunHubServer server) : TimedTest, IClassFixture<NoRunHubServer>
{
    [Fact]
    public async Task ARunTakenOverAfterItsRecordingWasReimportedFailsInsteadOfSplicingTwoRecordings()
    {
        var name = $"reimported_{Guid.NewGuid():N}";
        var records = new RunningRecordRepository(server.Database.DataSource);
        await server.ImportAsync(name, "multi_subtask", Ct);
        var begun = await records.FindVersionAsync(name, Ct);

        // A run that began on an instance now gone: its first raw written, the version it replays pinned, no lease.
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, name), Ct);
        await using (var connection = await server.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("""
                WITH s AS (
                    UPDATE interactions SET last_seq = 1, status = 'running', run_requested = true, recording_version = @version
                    WHERE interaction_id = @id AND last_seq = 0 RETURNING interaction_id)
                INSERT INTO raw (interaction_id, seq, node_id, status, is_human) SELECT interaction_id, 1, 'r1', 'running', true FROM s
                """, new { id = client.InteractionId, version = $"rows:{begun!.Stamp}" });
        }

        // The recording is imported again (another one under the same name), then an instance takes the run over.
        await server.ImportAsync(name, "no_plan", Ct);
        await using var runner = await server.StartAsync([new("Recorder:Runs:MaxConcurrentRuns", "4")], Ct);

        var messages = await Replays.ReadAllAsync(client, Ct);
        Assert.Equal([1L, 2], messages.Select(m => m.Seq));
        Assert.Equal(RecorderStatus.Failed, messages[^1].Status);
        Assert.Equal($"recording '{name}' changed after this replay began (re-imported or its files edited); it cannot be continued.", messages[^1].Message);
    }

}
