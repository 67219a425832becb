using Dapper;
using Microsoft.AspNetCore.Builder;
using Recorder.Client;
using Recorder.Client.Contracts;
using Recorder.Data.Recordings;
using Recorder.Data.Users;
using Recorder.Hub;
using Recorder.XAgent;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Rows;

namespace Recorder.Tests.Infrastructure;

/// <summary>
/// One real hub on Kestrel at 127.0.0.1 with its own PostgreSQL database and its own copy of the fixture recordings.
/// Derive to change settings; one instance per test class (<c>IClassFixture</c>).
/// </summary>
public class HubServer : IAsyncLifetime
{
    private WebApplication? _app;

    public TestDatabase Database { get; private set; } = null!;

    public string RecordingsRoot { get; } = Path.Combine(Path.GetTempPath(), $"recorder-recordings-{Guid.NewGuid():N}");

    public Uri BaseUrl { get; private set; } = null!;

    public Uri HubUrl => new(BaseUrl, RecorderProtocol.HubPath);

    public IServiceProvider Services => _app!.Services;

    /// <summary>A superuser's connection string to the PostgreSQL server that gets this server's database.</summary>
    protected virtual string PostgresAdmin => TestEnvironment.PostgresConnectionString;

    /// <summary>Configuration overrides (<c>Key</c> = value) on top of the test defaults.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string>> Settings => [];

    public virtual async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TestEnvironment.Timeout);
        Database = await TestDatabase.CreateAsync(PostgresAdmin, timeout.Token);
        CopyDirectory(TestEnvironment.FixtureRecordings, RecordingsRoot);
        _app = await StartAsync(timeout.Token);
        BaseUrl = new Uri(_app.Urls.First());
    }

    /// <summary>Starts another hub instance on the same database and recordings (for the multi-instance tests).</summary>
    public Task<WebApplication> StartAsync(CancellationToken cancellationToken) => StartAsync([], cancellationToken);

    /// <summary>Starts another hub instance with <paramref name="overrides"/> on top of this server's settings.</summary>
    public async Task<WebApplication> StartAsync(IEnumerable<KeyValuePair<string, string>> overrides, CancellationToken cancellationToken)
    {
        var app = RecorderApp.Build(Arguments(overrides));
        await app.StartAsync(cancellationToken);
        return app;
    }

    /// <summary>The hub's command line for an instance of this server with <paramref name="overrides"/> (in-process or not).</summary>
    public string[] Arguments(IEnumerable<KeyValuePair<string, string>> overrides)
    {
        var settings = new Dictionary<string, string>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["ConnectionStrings:Recorder"] = Database.ConnectionString,
            ["ConnectionStrings:Redis"] = "", // one instance, no backplane, whatever the environment exports
            ["Recorder:RecordingsRoot"] = RecordingsRoot,
            ["Recorder:Replay:Speed"] = "0",
            ["Recorder:Runs:DisconnectGrace"] = "00:00:02",
            ["Recorder:Runs:PollInterval"] = "00:00:00.200",
            ["Recorder:Runs:Lease"] = "00:00:03",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Error",

            // Every test connects from 127.0.0.1, and the refusal tests fail on purpose: the per-address limits are
            // for AbuseLimitTests to set. The per-user ones stay the product's.
            ["Recorder:Auth:ConnectsPerAddressPerMinute"] = "10000000",
            ["Recorder:Auth:FailuresPerAddress"] = "1000000",
        };
        foreach (var (key, value) in Settings.Concat(overrides))
        {
            settings[key] = value;
        }

        return [.. settings.Select(s => $"--{s.Key}={s.Value}")];
    }

    public async Task AddUserAsync(string userId, string token, bool available = true)
    {
        var users = new UserRepository(Database.DataSource);
        await users.UpsertAsync(userId, token, "", userId, available, isBeta: true, CancellationToken.None).WaitAsync(TestEnvironment.Timeout);
    }

    /// <summary>Imports <paramref name="recording"/> into <c>running_record</c> under <paramref name="name"/> (replacing an earlier import), with its workspace.</summary>
    public Task ImportAsync(string name, XAgentRecording recording, CancellationToken cancellationToken) =>
        new RunningRecordRepository(Database.DataSource).ReplaceAsync(
            name, XAgentRunningRecords.ToRows(recording), recording.Workspace, cancellationToken);

    /// <summary>Imports the fixture folder <paramref name="fixture"/> under <paramref name="name"/>.</summary>
    public async Task ImportAsync(string name, string fixture, CancellationToken cancellationToken) =>
        await ImportAsync(name, await XAgentDiskReader.ReadAsync(Path.Combine(RecordingsRoot, fixture), cancellationToken), cancellationToken);

    /// <summary>A new user with a random id, for tests that must not share one (check_running).</summary>
    public async Task<(string UserId, string Token)> NewUserAsync()
    {
        var userId = $"u{Guid.NewGuid():N}"[..12];
        var token = Guid.NewGuid().ToString("N");
        await AddUserAsync(userId, token);
        return (userId, token);
    }

    /// <summary>A user of the given kind: a new valid one, changed as <paramref name="who"/> says (or none at all).</summary>
    public async Task<(string UserId, string Token)> UserAsync(UserKind who)
    {
        if (who is UserKind.Unknown)
        {
            return ($"nobody-{Guid.NewGuid():N}", "x");
        }

        if (who is UserKind.TooLongId)
        {
            return (new string('u', 257), "x");
        }

        var (userId, token) = await NewUserAsync();
        var users = new UserRepository(Database.DataSource);
        switch (who)
        {
            case UserKind.WrongToken:
                return (userId, token + "-wrong");
            case UserKind.Unavailable:
                await users.UpsertAsync(userId, token, "", userId, available: false, isBeta: true, CancellationToken.None);
                break;
            case UserKind.NotBeta:
                await users.UpsertAsync(userId, token, "", userId, available: true, isBeta: false, CancellationToken.None);
                break;
            case UserKind.Deleted:
                await using (var connection = await Database.DataSource.OpenConnectionAsync(CancellationToken.None))
                {
                    await connection.ExecuteAsync("UPDATE users SET deleted = true WHERE user_id = @userId", new { userId });
                }

                break;
        }

        return (userId, token);
    }

    public RecorderClientOptions ClientOptions(string userId, string token, string recorderDir, string? clientId = null, Uri? hubUrl = null,
        RecorderWireProtocol protocol = RecorderWireProtocol.Json) => new()
    {
        Protocol = protocol,
        HubUrl = hubUrl ?? HubUrl,
        UserId = userId,
        Token = token,
        RecorderDir = recorderDir,
        ClientId = clientId,
        ConnectAttempts = 1,
    };

    public Task<T> QueryScalarAsync<T>(string sql, object? args = null) =>
        QueryScalarCoreAsync<T>(sql, args).WaitAsync(TestEnvironment.Timeout);

    private async Task<T> QueryScalarCoreAsync<T>(string sql, object? args)
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<T>(sql, args) ?? throw new InvalidOperationException($"no value for {sql}");
    }

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<T>(sql, args).WaitAsync(TestEnvironment.Timeout)).AsList();
    }

    public virtual async Task DisposeAsync()
    {
        try
        {
            if (_app is not null)
            {
                await _app.StopAsync(CancellationToken.None).WaitAsync(TestEnvironment.Timeout);
                await _app.DisposeAsync();
            }
        }
        finally
        {
            // Even when the hub did not stop in time: the database and the folder never outlive the class.
            try
            {
                await Database.DisposeAsync();
            }
            finally
            {
                Directory.Delete(RecordingsRoot, recursive: true);
            }
        }
    }

    /// <summary>Copies a folder with everything in it.</summary>
    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
