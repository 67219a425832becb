using System.Net;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// Once an instance is stopping it answers every new request with 503 and closes the connection, so that a client
/// reconnecting at once goes to another instance instead of opening a connection that holds the shutdown up.
/// </summary>
public sealed class ShutdownDrainingTests(HubServer server) : TimedTest, IClassFixture<HubServer>
{
    [Fact]
    public async Task WhileTheInstanceStopsNewRequestsGet503AndConnectionClose()
    {
        var instance = await server.StartAsync(Ct);
        using var http = new HttpClient { BaseAddress = new Uri(instance.Urls.First()) };
        using (var before = await http.GetAsync("/healthz", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        // Hold the stop inside its first stopping callback: the listener is still open, the instance is stopping.
        using var hold = new ManualResetEventSlim();
        var stoppingSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        instance.Lifetime.ApplicationStopping.Register(() =>
        {
            stoppingSeen.TrySetResult();
            hold.Wait(TestEnvironment.Timeout);
        });
        var stop = Task.Run(() => instance.StopAsync(CancellationToken.None));
        try
        {
            await stoppingSeen.Task.WaitAsync(TestEnvironment.Timeout, Ct);

            using var health = await http.GetAsync("/healthz", Ct);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Contains("close", health.Headers.Connection);

            using var negotiate = await http.PostAsync(TestQuery.Url("/hubs/recorder/negotiate?negotiateVersion=1", "u", "t"), null, Ct);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, negotiate.StatusCode);
        }
        finally
        {
            hold.Set();
            await stop.WaitAsync(TestEnvironment.Timeout, Ct);
            await instance.DisposeAsync();
        }
    }
}
