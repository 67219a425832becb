using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Recorder.Client.Contracts;
using Recorder.Hub.Presence;

namespace Recorder.Hub.Connect;

/// <summary>Sends <c>Pong</c> to every attached connection of this instance every 20 seconds, like the original.</summary>
public sealed partial class PongService(
    IHubContext<RecorderHub, IRecorderClient> hub,
    LocalConnections local,
    IOptions<RecorderOptions> options,
    ILogger<PongService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PongInterval);
        while (await Ticks.NextAsync(timer, stoppingToken))
        {
            // The XAgent web sockets send their own pongs (from their run's start, as the original does).
            var ids = local.Snapshot().Where(id => !id.StartsWith(XAgentWeb.RecorderSocketEndpoint.ConnectionPrefix, StringComparison.Ordinal)).ToList();
            if (ids.Count == 0)
            {
                continue;
            }

            // Every connection's write starts at once; a connection that does not read holds only its own write (its
            // outbox closes it as a slow consumer), never the next round of pongs to the others.
            var sent = hub.Clients.Clients(ids).Pong();
            try
            {
                await sent.WaitAsync(options.Value.PongInterval, stoppingToken);
            }
            catch (TimeoutException)
            {
                Log.PongPending(logger, ids.Count);
                _ = sent.ContinueWith(t => Log.PongFailed(logger, t.Exception!, ids.Count), CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                Log.PongFailed(logger, exception, ids.Count);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "Pong to {Count} connections failed")]
        public static partial void PongFailed(ILogger logger, Exception exception, int count);

        [LoggerMessage(EventId = 4202, Level = LogLevel.Debug, Message = "Pong to {Count} connections: a connection has not taken its pong within the interval; going on")]
        public static partial void PongPending(ILogger logger, int count);
    }
}
