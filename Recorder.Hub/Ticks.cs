namespace Recorder.Hub;

internal static class Ticks
{
    /// <summary>Waits for the timer's next tick; false once <paramref name="stoppingToken"/> is cancelled.</summary>
    public static async Task<bool> NextAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
