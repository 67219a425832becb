using System.CommandLine;

namespace Recorder.Bench;

/// <summary>Where the services are, and the options every scenario shares.</summary>
internal sealed class BenchEnvironment
{
    public static readonly Option<int> TimeoutOption = new("--timeout")
    {
        Description = "Seconds after which the whole scenario is cancelled (the bench never hangs).",
        DefaultValueFactory = _ => 600,
    };

    public static readonly Option<bool> RedisOption = new("--redis")
    {
        Description = "Run the hub with the Redis SignalR backplane (RECORDER_TEST_REDIS).",
    };

    public static readonly Option<string?> RecordingsOption = new("--recordings")
    {
        Description = "The recordings root (default: Recorder.Tests/Fixtures/recordings of this repository).",
    };

    public static readonly Option<string[]> HubSettingOption = new("--hub-setting")
    {
        Description = "Extra hub configuration, Key=Value (repeatable), applied after the scenario's own settings.",
        AllowMultipleArgumentsPerToken = false,
    };

    private BenchEnvironment(string postgres, string redis, string recordingsRoot, IReadOnlyList<KeyValuePair<string, string>> hubSettings)
    {
        PostgresConnectionString = postgres;
        RedisConnectionString = redis;
        RecordingsRoot = recordingsRoot;
        HubSettings = hubSettings;
    }

    /// <summary>A connection string to a PostgreSQL database on the server the bench databases are created on.</summary>
    public string PostgresConnectionString { get; }

    public string RedisConnectionString { get; }

    public string RecordingsRoot { get; }

    /// <summary>The <c>--hub-setting</c> overrides.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> HubSettings { get; }

    public static void AddCommonOptions(Command command)
    {
        command.Options.Add(TimeoutOption);
        command.Options.Add(RedisOption);
        command.Options.Add(RecordingsOption);
        command.Options.Add(HubSettingOption);
    }

    public static BenchEnvironment From(ParseResult parse)
    {
        var postgres = Environment.GetEnvironmentVariable("RECORDER_TEST_PG")
            ?? "Host=127.0.0.1;Port=25432;Database=recorder;Username=recorder;Password=recorder";
        var redis = Environment.GetEnvironmentVariable("RECORDER_TEST_REDIS") ?? "127.0.0.1:26379";
        var recordings = parse.GetValue(RecordingsOption) ?? FindFixtureRecordings();
        if (!Directory.Exists(recordings))
        {
            throw new DirectoryNotFoundException($"recordings root '{recordings}' does not exist (set --recordings).");
        }

        var hubSettings = (parse.GetValue(HubSettingOption) ?? []).Select(ParseSetting).ToList();
        return new BenchEnvironment(postgres, redis, Path.GetFullPath(recordings), hubSettings);
    }

    private static KeyValuePair<string, string> ParseSetting(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        return equals > 0
            ? new(text[..equals], text[(equals + 1)..])
            : throw new ArgumentException($"--hub-setting '{text}' is not Key=Value");
    }

    /// <summary>The commit the repository's HEAD names (read from .git, no git command), or null.</summary>
    public static string? SourceRevision()
    {
        try
        {
            var git = FindRepositoryRoot() is { } root ? Path.Combine(root, ".git") : null;
            if (git is null || !Directory.Exists(git))
            {
                return null;
            }

            var head = File.ReadAllText(Path.Combine(git, "HEAD")).Trim();
            if (!head.StartsWith("ref: ", StringComparison.Ordinal))
            {
                return head;
            }

            var reference = head["ref: ".Length..];
            var loose = Path.Combine(git, reference);
            if (File.Exists(loose))
            {
                return File.ReadAllText(loose).Trim();
            }

            var packed = Path.Combine(git, "packed-refs");
            return File.Exists(packed)
                ? File.ReadLines(packed).Select(l => l.Split(' ')).FirstOrDefault(p => p.Length == 2 && p[1] == reference)?[0]
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Recorder.Tests/Fixtures/recordings of the repository.</summary>
    private static string FindFixtureRecordings() =>
        FindRepositoryRoot() is { } root
            ? Path.Combine(root, "Recorder.Tests", "Fixtures", "recordings")
            : throw new DirectoryNotFoundException("Recorder.sln not found above the working directory; set --recordings.");

    /// <summary>The folder holding Recorder.sln, found by walking up from the working directory and from the binary.</summary>
    private static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Recorder.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }
}
