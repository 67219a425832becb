using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Hub;
using Recorder.Hub.Presence;

namespace Recorder.Bench;

/// <summary>
/// One or more hub instances built by <see cref="RecorderApp.Build"/> in this process, on Kestrel at 127.0.0.1:0, on
/// the bench database. Defaults: replay speed 0, quiet logging (warnings and errors only, to stderr, so that stdout
/// stays the markdown report); every other setting is the product default unless a scenario overrides it.
/// </summary>
internal sealed class HubUnderTest : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private readonly List<WebApplication> _instances = [];

    public static async Task<HubUnderTest> StartAsync(
        BenchEnvironment environment,
        BenchDatabase database,
        IEnumerable<KeyValuePair<string, string>> overrides,
        bool redis,
        int instances,
        CancellationToken cancellationToken)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["urls"] = "http://127.0.0.1:0",
            ["ConnectionStrings:Recorder"] = database.ConnectionString,
            ["Recorder:RecordingsRoot"] = environment.RecordingsRoot,
            ["Recorder:Replay:Speed"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Error",
            ["Logging:Console:LogToStandardErrorThreshold"] = "Trace",
        };

        // Always set: `services.sh env` exports ConnectionStrings__Redis, which the hub would otherwise pick up.
        settings["ConnectionStrings:Redis"] = redis ? environment.RedisConnectionString : "";

        foreach (var (key, value) in overrides.Concat(environment.HubSettings))
        {
            settings[key] = value;
        }

        var hub = new HubUnderTest();
        try
        {
            for (var i = 0; i < instances; i++)
            {
                var app = RecorderApp.Build([.. settings.Select(s => $"--{s.Key}={s.Value}")]);
                hub._instances.Add(app);
                await app.StartAsync(cancellationToken);
            }

            return hub;
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }
    }

    public Uri HubUrl(int instance) => new(new Uri(_instances[instance % _instances.Count].Urls.First()), RecorderProtocol.HubPath);

    /// <summary>Connections attached to an interaction, over all instances.</summary>
    public int AttachedConnections => _instances.Sum(app => app.Services.GetRequiredService<LocalConnections>().Count);

    /// <summary>Client options for <paramref name="user"/>; one connect attempt, so that a failure shows instead of being retried away.</summary>
    public RecorderClientOptions ClientOptions(BenchUser user, string recorderDir, int instance) => new()
    {
        HubUrl = HubUrl(instance),
        UserId = user.UserId,
        Token = user.Token,
        RecorderDir = recorderDir,
        ConnectAttempts = 1,
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _instances)
        {
            try
            {
                using var timeout = new CancellationTokenSource(StopTimeout);
                await app.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync("bench: a hub instance did not stop within 30 s");
            }

            await app.DisposeAsync().AsTask().WaitAsync(StopTimeout);
        }

        _instances.Clear();
    }
}
