using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

public sealed class ResumeTests(PacedHubServer server) : TimedTest, IClassFixture<PacedHubServer>
{
    [Theory]
    [InlineData(RecorderWireProtocol.Json)]
    [InlineData(RecorderWireProtocol.MessagePack)]
    public async Task ResumeAfterDropDeliversEveryRawOnce(RecorderWireProtocol protocol)
    {
        await using var proxy = new TcpProxy(server.BaseUrl);
        var throughProxy = new Uri($"http://127.0.0.1:{proxy.Port}{RecorderProtocol.HubPath}");
        var (user, token) = await server.NewUserAsync();
        await using var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, PacedHubServer.Recording, hubUrl: throughProxy, protocol: protocol), Ct);
        await client.StartRecorderAsync(Ct);

        long seqAtDrop = 0;
        var messages = await Replays.ReadAllWithFaultAsync(client, 3, async () =>
        {
            // Keep the client out until the run has written at least two more raws, so that those can only
            // arrive through the Resume after the reconnect.
            proxy.Pause();
            seqAtDrop = await server.QueryScalarAsync<long>(
                "SELECT last_seq FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId });
            await Eventually.UntilAsync(
                () => server.QueryScalarAsync<long>("SELECT last_seq FROM interactions WHERE interaction_id = @id", new { id = client.InteractionId }),
                seq => seq >= seqAtDrop + 2, TestEnvironment.Timeout, "two raws written while the client is away");
            proxy.Unpause();
        }, Ct);

        Replays.AssertGapFreeFromOne(messages);
        Assert.Equal(RecorderStatus.Finished, messages[^1].Status);
        var written = await server.QueryAsync<string>("SELECT status FROM raw WHERE interaction_id = @id ORDER BY seq", new { id = client.InteractionId });
        Assert.Equal(written, messages.Select(m => m.Status));
        Assert.True(seqAtDrop < messages.Count, $"the run had already ended when the connection dropped (seq {seqAtDrop})");
        Assert.Equal(1, proxy.Drops);
    }

    [Fact]
    public async Task ResumeFromASeqSendsOnlyTheLaterRawsInOrder()
    {
        var (user, token) = await server.NewUserAsync();
        List<RecorderEnvelope> all;
        string interactionId;
        await using (var client = await RecorderClient.ConnectAsync(server.ClientOptions(user, token, "multi_subtask"), Ct))
        {
            all = await Replays.RunToEndAsync(client);
            interactionId = client.InteractionId;
        }

        var received = new List<RecorderEnvelope>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new UriBuilder(server.HubUrl) { Query = TestQuery.Connect(user, token, "multi_subtask", interactionId) }.Uri)
            .AddJsonProtocol(o => RecorderProtocol.Configure(o.PayloadSerializerOptions))
            .Build();
        connection.On<RecorderEnvelope>(nameof(IRecorderClient.Message), e =>
        {
            lock (received)
            {
                received.Add(e);
            }

            if (e.IsTerminal)
            {
                done.TrySetResult();
            }
        });
        await connection.StartAsync(Ct);
        await connection.InvokeAsync(nameof(IRecorderHub.Resume), interactionId, 3L, Ct);
        await done.Task.WaitAsync(TestEnvironment.Timeout);

        lock (received)
        {
            Assert.Equal(RecorderStatus.Connect, received[0].Status);
            Assert.Equal(all.Skip(3).Select(m => m.Seq), received.Skip(1).Select(m => m.Seq));
            Assert.Equal(all.Skip(3).Select(m => m.NodeId), received.Skip(1).Select(m => m.NodeId));
        }
    }
}
