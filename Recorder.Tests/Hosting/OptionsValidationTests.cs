using Microsoft.Extensions.Options;
using Recorder.Hub;

namespace Recorder.Tests.Hosting;

public sealed class OptionsValidationTests
{
    private static async Task<string> StartupErrorAsync(params string[] settings)
    {
        await using var app = RecorderApp.Build(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None", .. settings]);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        return error.Message;
    }

    [Fact]
    public async Task AMissingConnectionStringStopsTheStartWithAClearMessage()
    {
        Assert.Contains("ConnectionStrings:Recorder is missing", await StartupErrorAsync("--ConnectionStrings:Recorder="));
    }

    [Theory]
    [InlineData("Recorder:Replay:Speed", "-1", "Recorder:Replay:Speed must be between 0")]
    [InlineData("Recorder:Replay:MinSpeed", "0", "Recorder:Replay:MinSpeed must be between 0.001 and 1000.")]
    [InlineData("Recorder:Replay:MaxSpeed", "5000", "Recorder:Replay:MaxSpeed must be between 0.001 and 1000.")]
    [InlineData("Recorder:Runs:DisconnectGrace", "-00:00:01", "Recorder:Runs:DisconnectGrace must be between")]
    [InlineData("Recorder:Runs:MaxConcurrentRuns", "-5", "Recorder:Runs:MaxConcurrentRuns must be between")]
    [InlineData("Recorder:Delivery:PageSize", "0", "Recorder:Delivery:PageSize must be between")]
    [InlineData("Recorder:Delivery:OutboxCapacity", "0", "Recorder:Delivery:OutboxCapacity must be between")]
    public async Task AnOutOfRangeSettingStopsTheStartNamingTheKey(string key, string value, string message)
    {
        var error = await StartupErrorAsync("--ConnectionStrings:Recorder=Host=127.0.0.1;Port=1;Database=none", $"--{key}={value}");
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMinSpeedAboveTheMaxSpeedIsRefused()
    {
        var error = await StartupErrorAsync("--ConnectionStrings:Recorder=Host=127.0.0.1;Port=1;Database=none",
            "--Recorder:Replay:MinSpeed=4", "--Recorder:Replay:MaxSpeed=2");
        Assert.Contains("Recorder:Replay:MinSpeed (4) must not be above Recorder:Replay:MaxSpeed (2).", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APollSlowerThanAThirdOfTheLeaseIsRefused()
    {
        var error = await StartupErrorAsync("--ConnectionStrings:Recorder=Host=127.0.0.1;Port=1;Database=none",
            "--Recorder:Runs:Lease=00:00:03", "--Recorder:Runs:PollInterval=00:00:02");
        Assert.Contains("Recorder:Runs:PollInterval (00:00:02) must be at most a third of Recorder:Runs:Lease", error, StringComparison.Ordinal);
    }
}
