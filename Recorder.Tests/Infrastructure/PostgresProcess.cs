using System.Diagnostics;
using System.Globalization;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of a test's own (initdb into a temp folder, a free loopback port below the ephemeral range),
/// which the test can restart with pg_ctl without touching the suite's shared server. As root, initdb and pg_ctl run
/// as the <c>postgres</c> user (<c>runuser -u postgres --</c>), as deploy/local/services.sh does. The folder's name
/// carries the test process's id, so that the first cluster of a run stops and removes those a killed run left.
/// </summary>
public sealed class PostgresProcess : IAsyncDisposable
{
    private const string Prefix = "recorder-test-pg-";
    private static readonly Lazy<bool> LeftoversRemoved = new(RemoveLeftovers);
    private readonly string _bin;
    private readonly string _base;

    private PostgresProcess(string bin, string folder, int port)
    {
        _bin = bin;
        _base = folder;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The bootstrap superuser over TCP (trust authentication on 127.0.0.1).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Database=postgres;Username=postgres";

    private string Data => Path.Combine(_base, "data");

    private string LogFile => Path.Combine(_base, "postgres.log");

    public static async Task<PostgresProcess> StartAsync(CancellationToken cancellationToken)
    {
        _ = LeftoversRemoved.Value;
        var bin = FindBin();
        var port = LoopbackPort.BelowEphemeral();
        var folder = Path.Combine(Path.GetTempPath(), $"{Prefix}{Environment.ProcessId}-{port}");
        var postgres = new PostgresProcess(bin, folder, port);
        try
        {
            await AsOwnerAsync("mkdir", ["-p", folder], cancellationToken);
            await AsOwnerAsync(Path.Combine(bin, "initdb"),
                ["-D", postgres.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions", "--no-sync"], cancellationToken);
            // Root may write the owner's file; anyone else is its owner.
            await File.AppendAllTextAsync(Path.Combine(postgres.Data, "postgresql.conf"), $"""

                # Written by Recorder.Tests (PostgresProcess): a throw-away cluster on loopback only.
                listen_addresses = '127.0.0.1'
                port = {port}
                unix_socket_directories = '{folder}'
                max_connections = 300
                fsync = off
                full_page_writes = off
                timezone = 'UTC'
                log_timezone = 'UTC'
                log_min_messages = warning

                """, cancellationToken);
            await postgres.StartAgainAsync(cancellationToken);
            return postgres;
        }
        catch
        {
            await postgres.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// <c>pg_ctl stop -m immediate</c> (every backend killed at once, no checkpoint: a crash as far as clients see),
    /// <paramref name="down"/> of outage, then <c>pg_ctl start</c> (crash recovery) until it accepts connections.
    /// </summary>
    public async Task RestartAsync(TimeSpan down, CancellationToken cancellationToken)
    {
        await StopAsync(cancellationToken);
        await Task.Delay(down, cancellationToken); // the outage itself, not a wait for a condition
        await StartAgainAsync(cancellationToken);
    }

    /// <summary><c>pg_ctl stop -m immediate</c>, leaving the cluster down until <see cref="StartAgainAsync"/>.</summary>
    public Task StopAsync(CancellationToken cancellationToken) =>
        AsOwnerAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Data, "-m", "immediate", "-w", "stop"], cancellationToken);

    /// <summary><c>pg_ctl start -w</c>, then waits until it accepts connections on its port.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken)
    {
        try
        {
            await AsOwnerAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Data, "-l", LogFile, "-w", "-t", "60", "start"], cancellationToken);
            await Eventually.UntilAsync(() => Task.FromResult(LoopbackPort.Accepts(Port)), ok => ok, TestEnvironment.Timeout, $"PostgreSQL on port {Port}");
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
        {
            throw new InvalidOperationException($"{exception.Message}{Environment.NewLine}{LogTail()}", exception);
        }
    }

    private string LogTail() =>
        File.Exists(LogFile) ? string.Join(Environment.NewLine, File.ReadLines(LogFile).TakeLast(30)) : "(no log)";

    /// <summary>$RECORDER_PG_BIN, else the newest /usr/lib/postgresql/*/bin, else the folder of pg_ctl on PATH.</summary>
    private static string FindBin()
    {
        if (Environment.GetEnvironmentVariable("RECORDER_PG_BIN") is { Length: > 0 } configured)
        {
            return configured;
        }

        var installed = Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql")
                .Select(d => (Version: int.TryParse(Path.GetFileName(d), CultureInfo.InvariantCulture, out var v) ? v : 0, Bin: Path.Combine(d, "bin")))
                .Where(d => File.Exists(Path.Combine(d.Bin, "initdb")) && File.Exists(Path.Combine(d.Bin, "pg_ctl")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Bin)
                .FirstOrDefault()
            : null;
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "pg_ctl")) && File.Exists(Path.Combine(d, "initdb")));
        return installed ?? onPath
            ?? throw new InvalidOperationException("PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL 13+ or set RECORDER_PG_BIN");
    }

    /// <summary>Runs a command as the cluster's owner: user postgres when the tests run as root, else the current user.</summary>
    private static async Task AsOwnerAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var root = Environment.UserName == "root";
        var start = new ProcessStartInfo(root ? "runuser" : file)
        {
            WorkingDirectory = "/", // user postgres may not enter the test's folder
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (root)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(90), cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:{Environment.NewLine}{await output}{await errors}");
        }
    }

    /// <summary>Stops and removes the clusters whose test process is gone.</summary>
    private static bool RemoveLeftovers()
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), $"{Prefix}*"))
        {
            var owner = Path.GetFileName(folder)[Prefix.Length..].Split('-')[0];
            if (!int.TryParse(owner, CultureInfo.InvariantCulture, out var pid) || Directory.Exists($"/proc/{pid}"))
            {
                continue;
            }

            var leftover = new PostgresProcess(FindBin(), folder, 0);
            leftover.DisposeAsync().AsTask().Wait(TestEnvironment.Timeout);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (File.Exists(Path.Combine(Data, "postmaster.pid")))
            {
                using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
                await StopAsync(timeout.Token);
            }
        }
        finally
        {
            if (Directory.Exists(_base))
            {
                Directory.Delete(_base, recursive: true);
            }
        }
    }
}
