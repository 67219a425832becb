using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>An XAgent web socket that drops and stays away is treated like a hub connection: the disconnect grace closes its run.</summary>
public sealed class XAgentWebGraceTests(GraceHubServer server) : TimedTest, IClassFixture<GraceHubServer>
{
    [Fact]
    public async Task ASocketThatDropsAndStaysAwayHasItsRunClosedAfterTheGrace()
    {
        var total = (await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"))).Count;
        var (user, token) = await server.NewUserAsync();
        var clientId = Guid.NewGuid().ToString("N");
        await using (var socket = await XAgentWebClient.ConnectAsync(server.BaseUrl, clientId, XAgentWebClient.Query(user, token, GraceHubServer.Recording), Ct))
        {
            await socket.UntilAsync(f => f.Count(x => x.Seq > 0) >= 2, Ct);
            socket.Drop();
        }

        await Eventually.UntilAsync(
            () => server.QueryScalarAsync<string>("SELECT status FROM interactions WHERE interaction_id = @clientId", new { clientId }),
            status => status == "closed", TestEnvironment.Timeout, "the interaction closed after the grace");
        var written = await server.QueryScalarAsync<long>("SELECT last_seq FROM interactions WHERE interaction_id = @clientId", new { clientId });
        Assert.InRange(written, 2, total - 1);
        Assert.Equal(0, await server.QueryScalarAsync<long>("SELECT count(*) FROM hub_connections WHERE interaction_id = @clientId", new { clientId }));
    }
}
