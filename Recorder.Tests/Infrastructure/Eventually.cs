namespace Recorder.Tests.Infrastructure;

/// <summary>Polls a condition with a deadline (never a bare sleep standing in for a condition).</summary>
public static class Eventually
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe().WaitAsync(timeout);
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for {what}; last value: {value}");
            }

            await Task.Delay(50);
        }
    }
}
