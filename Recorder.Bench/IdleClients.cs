using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Recorder.Client;

namespace Recorder.Bench;

/// <summary>What the idle-clients process reports after its clients connected.</summary>
internal sealed record ConnectReport(
    int Connected, double MedianMs, double P90Ms, double P99Ms, double MaxMs, double TotalSeconds, long WorkingSetBefore, long WorkingSetAfter, double CpuSeconds, int FileDescriptors);

/// <summary>What the idle-clients process reports after a reconnect storm: every client's <see cref="ClientReconnect"/> and how its connection stands now.</summary>
internal sealed record StormReport(long Armed, IReadOnlyList<ClientReconnect> Clients, IReadOnlyDictionary<string, int> States, double CpuSeconds, int FileDescriptors);

/// <summary>
/// The client side of the connections and storm scenarios, in a process of its own so that the hub's process holds
/// only the hub: connects and closes the churn clients, connects the warm-up clients, says <c>WARM</c>, waits for <c>GO</c> on stdin, connects the rest,
/// says <c>CONNECTED {json}</c>, then keeps them all idle until <c>STOP</c> (or end of input), closes them and says
/// <c>STOPPED</c>. With <c>--probe</c> each client is watched by a <see cref="ReconnectProbe"/>, and
/// <c>STORM &lt;seconds&gt;</c> arms the probes (says <c>ARMED</c>: the bench may now take the hub down), waits up
/// to that long for every client to reconnect and resume, and says <c>RESUMED {json}</c>.
/// </summary>
internal static class IdleClients
{
    public const string CommandName = "idle-clients";

    private static readonly Option<string> HubUrlOption = new("--hub-url") { Required = true };
    private static readonly Option<string> UserPrefixOption = new("--user-prefix") { Required = true };
    private static readonly Option<int> WarmupOption = new("--warmup") { DefaultValueFactory = _ => 0 };
    private static readonly Option<int> ChurnOption = new("--churn") { DefaultValueFactory = _ => 0 };
    private static readonly Option<int> CountOption = new("--count") { Required = true };
    private static readonly Option<int> ParallelismOption = new("--parallelism") { DefaultValueFactory = _ => 16 };
    private static readonly Option<string> RecordingOption = new("--recording") { DefaultValueFactory = _ => "multi_subtask" };
    private static readonly Option<bool> ProbeOption = new("--probe");
    private static readonly Option<bool> BareOption = new("--bare") { Description = "Plain connections to the bare SignalR hub (BareSignalR): connect and one Ping round trip each." };

    public static Command CreateCommand()
    {
        var command = new Command(CommandName, "(internal) The idle clients of the connections and storm scenarios.")
        {
            HubUrlOption, UserPrefixOption, WarmupOption, ChurnOption, CountOption, ParallelismOption, RecordingOption, ProbeOption, BareOption, BenchEnvironment.TimeoutOption,
        };
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TimeSpan.FromSeconds(parse.GetValue(BenchEnvironment.TimeoutOption)));
            try
            {
                if (parse.GetValue(BareOption))
                {
                    await RunBareAsync(parse, deadline.Token);
                }
                else
                {
                    await RunAsync(parse, deadline.Token);
                }

                return 0;
            }
            catch (Exception exception)
            {
                await Console.Error.WriteLineAsync($"idle-clients: {exception}");
                return 1;
            }
        });
        return command;
    }

    private static async Task RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var warmup = parse.GetValue(WarmupOption);
        var count = parse.GetValue(CountOption);
        var parallelism = Math.Max(1, parse.GetValue(ParallelismOption));
        var hubUrl = new Uri(parse.GetValue(HubUrlOption)!);
        var churn = parse.GetValue(ChurnOption);
        var users = BenchUser.Many(parse.GetValue(UserPrefixOption)!, warmup + count + churn);
        // The kept clients are watched (the churn's are closed before the storm).
        var probes = parse.GetValue(ProbeOption) ? Enumerable.Range(0, warmup + count).Select(_ => new ReconnectProbe()).ToList() : null;
        var options = users.Select((user, i) => new RecorderClientOptions
        {
            HubUrl = hubUrl,
            UserId = user.UserId,
            Token = user.Token,
            RecorderDir = parse.GetValue(RecordingOption)!,
            ConnectAttempts = 1,
            ConfigureHttpConnection = probes is null || i >= probes.Count ? null : probes[i].Configure,
        }).ToList();

        var clients = new List<RecorderClient>();
        try
        {
            await ConnectPhasesAsync(clients, churn, warmup, count, parallelism, (i, ct) => RecorderClient.ConnectAsync(options[i], ct), cancellationToken);
            while (await ReadCommandAsync(cancellationToken) is { } command && command != "STOP")
            {
                if (probes is null || !command.StartsWith("STORM ", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"unexpected command '{command}'");
                }

                var timeout = TimeSpan.FromSeconds(double.Parse(command["STORM ".Length..], CultureInfo.InvariantCulture));
                Console.WriteLine("RESUMED " + JsonSerializer.Serialize(await StormAsync(clients, probes, timeout, cancellationToken)));
            }
        }
        finally
        {
            await BenchClients.DisposeAllAsync(clients);
            Console.WriteLine("STOPPED");
        }
    }

    /// <summary>
    /// The bare baseline of the connect rate: plain <see cref="EnvelopeReceiver"/> connections to <see cref="BareSignalR"/>
    /// (negotiate, WebSocket, handshake: no authentication, no database), each followed by one <c>Ping</c> round trip as
    /// a Recorder client's connect is followed by its <c>Resume</c>; then idle until <c>STOP</c>.
    /// </summary>
    private static async Task RunBareAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var hubUrl = new Uri(parse.GetValue(HubUrlOption)!);
        var clients = new List<EnvelopeReceiver>();
        try
        {
            await ConnectPhasesAsync(clients, parse.GetValue(ChurnOption), parse.GetValue(WarmupOption), parse.GetValue(CountOption), Math.Max(1, parse.GetValue(ParallelismOption)),
                async (_, ct) =>
                {
                    var receiver = await EnvelopeReceiver.ConnectAsync(hubUrl, greeted: false, RecorderWireProtocol.Json, ct);
                    try
                    {
                        await receiver.Connection.InvokeAsync<long>(nameof(BareSignalR.BareHub.Ping), 0L, ct);
                        return receiver;
                    }
                    catch
                    {
                        await receiver.DisposeAsync();
                        throw;
                    }
                },
                cancellationToken);
            if (await ReadCommandAsync(cancellationToken) is { } command && command != "STOP")
            {
                throw new InvalidOperationException($"unexpected command '{command}'");
            }
        }
        finally
        {
            await BenchClients.DisposeAllAsync(clients);
            Console.WriteLine("STOPPED");
        }
    }

    /// <summary>
    /// Connects and closes the churn clients (they warm both processes up and leave nothing attached; user indexes after
    /// the measured ones), connects the warm-up clients, says <c>WARM</c>, waits for <c>GO</c>, connects the measured ones
    /// (timed) and says <c>CONNECTED {json}</c>; every client kept is added to <paramref name="clients"/> (the caller closes them).
    /// </summary>
    private static async Task ConnectPhasesAsync<T>(List<T> clients, int churn, int warmup, int count, int parallelism, Func<int, CancellationToken, Task<T>> connect,
        CancellationToken cancellationToken)
        where T : class, IAsyncDisposable
    {
        if (churn > 0)
        {
            var (churned, _) = await BenchClients.ConnectManyAsync(churn, parallelism, (i, ct) => connect(warmup + count + i, ct), cancellationToken);
            await BenchClients.DisposeAllAsync(churned);
        }

        var (warm, _) = await BenchClients.ConnectManyAsync(warmup, parallelism, connect, cancellationToken);
        clients.AddRange(warm);
        Console.WriteLine("WARM");
        await ExpectAsync("GO", cancellationToken);

        var workingSetBefore = Environment.WorkingSet;
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var start = Stopwatch.GetTimestamp();
        var (rest, times) = await BenchClients.ConnectManyAsync(count, parallelism, (i, ct) => connect(warmup + i, ct), cancellationToken);
        var total = Units.ElapsedMs(start, Stopwatch.GetTimestamp()) / 1000;
        clients.AddRange(rest);
        var stats = Stats.Of(times);
        var report = new ConnectReport(rest.Length, stats.Median, stats.Percentile(90), stats.Percentile(99), stats.Max, total, workingSetBefore, Environment.WorkingSet,
            (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds, ProcessSnapshot.OpenFileDescriptors());
        Console.WriteLine("CONNECTED " + JsonSerializer.Serialize(report));
    }

    /// <summary>Arms every probe, says <c>ARMED</c>, and waits up to <paramref name="timeout"/> for every client to have resumed.</summary>
    private static async Task<StormReport> StormAsync(IReadOnlyList<RecorderClient> clients, IReadOnlyList<ReconnectProbe> probes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        foreach (var probe in probes)
        {
            probe.Arm();
        }

        var cpuBefore = Environment.CpuUsage.TotalTime;
        var armed = Stopwatch.GetTimestamp();
        Console.WriteLine("ARMED");
        try
        {
            await Task.WhenAll(probes.Select(p => p.Resumed)).WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            await Console.Error.WriteLineAsync($"idle-clients: {probes.Count(p => !p.Resumed.IsCompleted)} of {probes.Count} clients had not resumed after {timeout.TotalSeconds} s");
        }

        var states = clients.GroupBy(c => c.State.ToString()).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new StormReport(armed, [.. probes.Select(p => p.Result())], states, (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds,
            ProcessSnapshot.OpenFileDescriptors());
    }

    /// <summary>Waits for <paramref name="word"/> on stdin; the end of input means stop.</summary>
    private static async Task ExpectAsync(string word, CancellationToken cancellationToken)
    {
        var line = await ReadCommandAsync(cancellationToken);
        if (line is not null && line != word)
        {
            throw new InvalidOperationException($"expected '{word}' on stdin, got '{line}'");
        }
    }

    private static async Task<string?> ReadCommandAsync(CancellationToken cancellationToken) =>
        (await Console.In.ReadLineAsync(cancellationToken).AsTask().WaitAsync(cancellationToken))?.Trim();
}

/// <summary>
/// The idle-clients process as the bench process drives it: started with this binary, spoken to over stdin, read
/// from stdout (one line per step), killed if it is still running when disposed.
/// </summary>
internal sealed class IdleClientsProcess : IDisposable
{
    private readonly Process _process;

    private IdleClientsProcess(Process process) => _process = process;

    public static IdleClientsProcess Start(Uri hubUrl, string prefix, int warmup, int count, int parallelism, bool probe, int timeoutSeconds, bool bare = false, int churn = 0)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(IdleClients).Assembly.Location);
        }

        foreach (var arg in new[]
        {
            IdleClients.CommandName,
            "--hub-url", hubUrl.ToString(),
            "--user-prefix", prefix,
            "--warmup", warmup.ToString(CultureInfo.InvariantCulture),
            "--churn", churn.ToString(CultureInfo.InvariantCulture),
            "--count", count.ToString(CultureInfo.InvariantCulture),
            "--parallelism", parallelism.ToString(CultureInfo.InvariantCulture),
            "--timeout", timeoutSeconds.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(arg);
        }

        if (probe)
        {
            start.ArgumentList.Add("--probe");
        }

        if (bare)
        {
            start.ArgumentList.Add("--bare");
        }

        start.Environment["DOTNET_gcServer"] = "0"; // the clients are not what is measured; keep their process small
        return new IdleClientsProcess(Process.Start(start) ?? throw new InvalidOperationException("the idle-clients process did not start"));
    }

    public Task SendAsync(string line, CancellationToken cancellationToken) =>
        _process.StandardInput.WriteLineAsync(line.AsMemory(), cancellationToken);

    /// <summary>Reads the child's next line within <paramref name="timeout"/>; it must start with <paramref name="word"/>. Returns the rest of the line.</summary>
    public async Task<string> ExpectAsync(string word, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string? line;
        try
        {
            line = await _process.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the idle-clients process did not say '{word}' within {timeout.TotalSeconds} s");
        }

        if (line is null)
        {
            throw new InvalidOperationException($"the idle-clients process ended before '{word}'");
        }

        if (!line.StartsWith(word, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"expected '{word}' from the idle-clients process, got '{line}'");
        }

        return line[word.Length..].Trim();
    }

    /// <summary>Says <c>STOP</c>, waits for <c>STOPPED</c> and for the process to exit.</summary>
    public async Task StopAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await SendAsync("STOP", cancellationToken);
        await ExpectAsync("STOPPED", timeout, cancellationToken);
        await _process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
