using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Hub;
using Recorder.Hub.Presence;

namespace Recorder.Bench;

/// <summary>When the steps of a <see cref="HubUnderTest.RestartAsync"/> ended (<see cref="Stopwatch"/> timestamps).</summary>
internal sealed record HubRestart(long Stopping, long Stopped, long Disposed, long Built, long Started)
{
    public double StopMs => Units.ElapsedMs(Stopping, Stopped);

    public double DisposeMs => Units.ElapsedMs(Stopped, Disposed);

    public double BuildMs => Units.ElapsedMs(Disposed, Built);

    public double StartMs => Units.ElapsedMs(Built, Started);

    /// <summary>From the old instance's StopAsync call to the new instance's StartAsync returning.</summary>
    public double DowntimeMs => Units.ElapsedMs(Stopping, Started);
}

/// <summary>
/// One or more hub instances built by <see cref="RecorderApp.Build"/> in this process, on Kestrel at 127.0.0.1:0
/// (or on a fixed port chosen up front, so that an instance can be restarted where its clients reconnect), on the
/// bench database. Defaults: replay speed 0, quiet logging (warnings and errors only, to stderr, so that stdout
/// stays the markdown report); every other setting is the product default unless a scenario overrides it.
/// </summary>
internal sealed class HubUnderTest : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    // Fixed ports are taken below the ephemeral ranges (Linux 32768-60999, Windows 49152-65535): while a restarted
    // instance is down, no outgoing connection (say, a reconnecting client's own end) can be given its port.
    private const int FixedPortLow = 20_000;
    private const int FixedPortHigh = 32_000;

    private readonly List<WebApplication?> _instances = [];
    private readonly List<string[]> _arguments = [];
    private readonly bool _fixedPorts;

    private HubUnderTest(bool fixedPorts) => _fixedPorts = fixedPorts;

    public static Task<HubUnderTest> StartAsync(
        BenchEnvironment environment,
        BenchDatabase database,
        IEnumerable<KeyValuePair<string, string>> overrides,
        bool redis,
        int instances,
        CancellationToken cancellationToken) =>
        StartAsync(environment, database, overrides, redis, instances, fixedPorts: false, cancellationToken);

    /// <summary>With <c>fixedPorts</c>, each instance on a free port chosen before it starts (see <see cref="RestartAsync"/>) instead of port 0.</summary>
    public static async Task<HubUnderTest> StartAsync(
        BenchEnvironment environment,
        BenchDatabase database,
        IEnumerable<KeyValuePair<string, string>> overrides,
        bool redis,
        int instances,
        bool fixedPorts,
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

            // One machine plays every client from one address: the abuse limits would measure themselves.
            ["Recorder:Auth:ConnectsPerUserPerMinute"] = "1000000",
            ["Recorder:Auth:ConnectsPerAddressPerMinute"] = "10000000",
            ["Recorder:Auth:ConnectionsPerUser"] = "1000000",
        };

        // Always set: `services.sh env` exports ConnectionStrings__Redis, which the hub would otherwise pick up.
        settings["ConnectionStrings:Redis"] = redis ? environment.RedisConnectionString : "";

        foreach (var (key, value) in overrides.Concat(environment.HubSettings))
        {
            settings[key] = value;
        }

        var hub = new HubUnderTest(fixedPorts);
        try
        {
            for (var i = 0; i < instances; i++)
            {
                if (fixedPorts)
                {
                    settings["urls"] = $"http://127.0.0.1:{FreePort().ToString(CultureInfo.InvariantCulture)}";
                }

                string[] arguments = [.. settings.Select(s => $"--{s.Key}={s.Value}")];
                var app = RecorderApp.Build(arguments);
                hub._instances.Add(app);
                hub._arguments.Add(arguments);
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

    public Uri HubUrl(int instance) =>
        new(new Uri((_instances[instance % _instances.Count] ?? throw new InvalidOperationException("the instance is stopped")).Urls.First()), RecorderProtocol.HubPath);

    /// <summary>Connections attached to an interaction, over all instances.</summary>
    public int AttachedConnections => _instances.OfType<WebApplication>().Sum(app => app.Services.GetRequiredService<LocalConnections>().Count);

    /// <summary>Client options for <paramref name="user"/>; one connect attempt, so that a failure shows instead of being retried away.</summary>
    public RecorderClientOptions ClientOptions(BenchUser user, string recorderDir, int instance) => new()
    {
        HubUrl = HubUrl(instance),
        UserId = user.UserId,
        Token = user.Token,
        RecorderDir = recorderDir,
        ConnectAttempts = 1,
    };

    /// <summary>
    /// The first half of a graceful restart, as an operator's rolling restart does it: the instance is stopped
    /// (<c>StopAsync</c>, within 30 s) and disposed. Needs <c>fixedPorts</c>; <see cref="StartInstanceAsync"/> is the second half.
    /// </summary>
    public async Task<(long Stopping, long Stopped, long Disposed)> StopInstanceAsync(int instance, CancellationToken cancellationToken)
    {
        if (!_fixedPorts)
        {
            throw new InvalidOperationException("a restart needs the instances on fixed ports (StartAsync with fixedPorts: true)");
        }

        var app = _instances[instance] ?? throw new InvalidOperationException($"instance {instance} is not running");
        var stopping = Stopwatch.GetTimestamp();
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(StopTimeout);
            await app.StopAsync(timeout.Token);
        }

        var stopped = Stopwatch.GetTimestamp();
        _instances[instance] = null;
        await app.DisposeAsync().AsTask().WaitAsync(StopTimeout, cancellationToken);
        return (stopping, stopped, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// Builds and starts a new instance in the slot <see cref="StopInstanceAsync"/> emptied, with the same settings: the
    /// same fixed port (so its clients reconnect to it), a new instance id. Returns when it was built and when its
    /// <c>StartAsync</c> returned (within 30 s).
    /// </summary>
    public async Task<(long Built, long Started)> StartInstanceAsync(int instance, CancellationToken cancellationToken)
    {
        if (_instances[instance] is not null)
        {
            throw new InvalidOperationException($"instance {instance} is running");
        }

        var app = RecorderApp.Build(_arguments[instance]);
        _instances[instance] = app;
        var built = Stopwatch.GetTimestamp();
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(StartTimeout);
            await app.StartAsync(timeout.Token);
        }

        return (built, Stopwatch.GetTimestamp());
    }

    /// <summary>Both halves: <see cref="StopInstanceAsync"/>, then <see cref="StartInstanceAsync"/>.</summary>
    public async Task<HubRestart> RestartAsync(int instance, CancellationToken cancellationToken)
    {
        var (stopping, stopped, disposed) = await StopInstanceAsync(instance, cancellationToken);
        var (built, started) = await StartInstanceAsync(instance, cancellationToken);
        return new HubRestart(stopping, stopped, disposed, built, started);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _instances.OfType<WebApplication>())
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

    /// <summary>A port in [20000, 32000) that nothing listens on now (tried by binding it).</summary>
    private static int FreePort()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(FixedPortLow, FixedPortHigh);
            try
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (SocketException)
            {
                // taken: another one
            }
        }

        throw new InvalidOperationException($"no free port in [{FixedPortLow}, {FixedPortHigh}) after 100 tries");
    }
}
