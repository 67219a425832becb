using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Recorder.Client.Contracts;
using Recorder.Hub.Presence;

namespace Recorder.Hub.Hub;

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
            var ids = local.Snapshot();
            if (ids.Count == 0)
            {
                continue;
            }

            try
            {
                await hub.Clients.Clients(ids).Pong().WaitAsync(stoppingToken);
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
    }
}
