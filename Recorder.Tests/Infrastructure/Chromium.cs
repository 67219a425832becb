using PuppeteerSharp;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// The system's headless Chromium (Debian's <c>chromium</c> package, which <c>.ci/run</c> installs), driven over the
/// DevTools protocol by PuppeteerSharp; no browser is downloaded.
/// </summary>
public static class Chromium
{
    /// <summary>Where Debian puts it; <c>RECORDER_TEST_CHROMIUM</c> overrides.</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("RECORDER_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Starts a headless browser; fails (does not skip) when Chromium is not installed.</summary>
    public static async Task<IBrowser> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            Assert.Fail($"Chromium is not installed at {ExecutablePath}: the demo page test needs it (Debian 12: apt-get install -y --no-install-recommends chromium fonts-noto-cjk; .ci/run installs both), or set RECORDER_TEST_CHROMIUM to a Chromium binary.");
        }

        return await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // As root (CI) Chromium refuses to start with its sandbox; /dev/shm may be small in containers.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--lang=en-US"],
            Timeout = (int)TestEnvironment.Timeout.TotalMilliseconds,
            ProtocolTimeout = (int)TestEnvironment.Timeout.TotalMilliseconds,
        }).WaitAsync(TestEnvironment.Timeout * 2);
    }
}
