using System.Diagnostics;

namespace Recorder.Tests.Infrastructure;

/// <summary>Waits for a process the test started to answer <c>/healthz</c>, failing at once (with its output) if it exits.</summary>
internal static class HealthProbe
{
    public static async Task UntilHealthyAsync(Process process, Uri baseUrl, string what, Func<string> output, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.UntilAsync(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{what} exited with {process.ExitCode}:{Environment.NewLine}{output()}");
            }

            try
            {
                return (await http.GetAsync(new Uri(baseUrl, "healthz"), cancellationToken)).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false; // the probe's own 2 s timeout on a loaded machine: ask again
            }
        }, ok => ok, TestEnvironment.Timeout, $"{what} to answer /healthz");
    }
}
