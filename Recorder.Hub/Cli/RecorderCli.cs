using System.Buffers.Text;
using System.CommandLine;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Recorder.Data;
using Recorder.Data.Interactions;
using Recorder.Data.Migrations;
using Recorder.Data.Recordings;
using Recorder.Data.Users;
using Recorder.Data.Workspace;
using Recorder.Hub.Retention;
using Recorder.XAgent;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;
using Recorder.XAgent.Rows;

namespace Recorder.Hub.Cli;

/// <summary>
/// The administration verbs of the hub executable. They read the same configuration as the server
/// (appsettings, environment variables with <c>__</c>, command-line <c>--Key=value</c>).
/// </summary>
public static class RecorderCli
{
    private static readonly string[] Verbs = ["migrate", "users", "recordings", "interactions"];

    public static bool IsCommand(string[] args) => args.Length > 0 && Verbs.Contains(args[0]);

    /// <summary>Runs the verb; <paramref name="invocation"/> can redirect its output (tests read what it prints).</summary>
    public static async Task<int> RunAsync(string[] args, InvocationConfiguration? invocation = null)
    {
        var root = new RootCommand("Recorder hub administration. Without a verb, the hub server starts.")
        {
            MigrateCommand(),
            UsersCommand(),
            RecordingsCommand(),
            InteractionsCommand(),
        };
        return await root.Parse(args).InvokeAsync(invocation);
    }

    private static Command MigrateCommand()
    {
        var command = new Command("migrate", "Apply the database migrations.");
        command.SetAction(async (parse, ct) =>
        {
            await using var services = BuildServices(parse.UnmatchedTokens);
            var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            await DatabaseMigrator.MigrateAsync(options.Recorder!, services.GetRequiredService<ILoggerFactory>().CreateLogger("migrate"), ct);
            await parse.InvocationConfiguration.Output.WriteLineAsync("database is up to date".AsMemory(), ct);
            return 0;
        });
        command.TreatUnmatchedTokensAsErrors = false; // configuration arguments (--ConnectionStrings:Recorder=...) pass through
        return command;
    }

    /// <summary>The shortest token <c>users add</c> accepts: a token is the only secret of a user, and guessable ones are refused.</summary>
    public const int MinTokenLength = 16;

    private static Command UsersCommand()
    {
        var userId = new Argument<string>("user_id") { Description = "The user's id." };
        var token = new Option<string?>("--token")
        {
            Description = $"The user's token ({MinTokenLength} to 1024 characters, stored hashed). Without it a random 256-bit token is made and printed once.",
        };
        var email = new Option<string>("--email") { Description = "The user's e-mail.", DefaultValueFactory = _ => "" };
        var name = new Option<string>("--name") { Description = "The user's name.", DefaultValueFactory = _ => "" };
        var unavailable = new Option<bool>("--unavailable") { Description = "Create the user disabled (connections are refused)." };
        var add = new Command("add", "Create a user, or replace the token of an existing one.") { userId, token, email, name, unavailable };
        add.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var id = parse.GetValue(userId)!;
            var given = parse.GetValue(token);
            if (id.Length is 0 or > 256 || given is { Length: < MinTokenLength or > 1024 })
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(
                    $"user_id must be 1 to 256 characters and the token {MinTokenLength} to 1024 characters; nothing was changed.".AsMemory(), ct);
                return 2;
            }

            var secret = given ?? Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
            await using var services = await MigratedServicesAsync(parse.UnmatchedTokens, ct);
            var created = await services.GetRequiredService<UserRepository>().UpsertAsync(
                id, secret, parse.GetValue(email) ?? "", parse.GetValue(name) ?? "", !parse.GetValue(unavailable), isBeta: true, ct);
            await output.WriteLineAsync((created ? $"user {id} created" : $"user {id} updated").AsMemory(), ct);
            if (given is null)
            {
                // The only time it is shown: only its hash is stored.
                await output.WriteLineAsync($"token {secret}".AsMemory(), ct);
            }

            return 0;
        });
        add.TreatUnmatchedTokensAsErrors = false;
        return new Command("users", "Manage users.") { add };
    }

    private static Command RecordingsCommand()
    {
        var folder = new Argument<DirectoryInfo>("folder") { Description = "A recording in XAgent's disk format." };
        var recordId = new Option<string?>("--record-id") { Description = "The record_id to store it under (default: the folder name)." };
        var progress = new Option<bool>("--progress")
        {
            Description = $"Print progress to stderr (a line every {ImportProgress.EveryFiles} files or every second); the default when stderr is a terminal.",
        };
        var importJson = new Option<bool>("--json") { Description = "Print {record_id, records, workspace_files} as JSON instead of the record_id, and no progress." };
        var import = new Command("import", "Import a recording folder into running_record; prints its record_id.") { folder, recordId, progress, importJson };
        import.SetAction(async (parse, ct) =>
        {
            var directory = parse.GetValue(folder)!;
            var error = parse.InvocationConfiguration.Error;
            var id = parse.GetValue(recordId) ?? directory.Name;
            var invalid = Recordings.RecorderDir.Validate(id);
            if (invalid is not null)
            {
                await error.WriteLineAsync($"record_id '{id}': {invalid}".AsMemory(), ct);
                return 2;
            }

            var json = parse.GetValue(importJson);
            var showProgress = !json && (parse.GetValue(progress) || (error == Console.Error && !Console.IsErrorRedirected));
            XAgentRecording recording;
            try
            {
                recording = await XAgentDiskReader.ReadAsync(
                    RecordingFolderWalker.ListFiles(directory.FullName), showProgress ? new ImportProgress(error) : null, ct);
                XAgentReplayMapper.Map(recording); // refuse what could not be replayed
            }
            catch (RecordingFormatException exception)
            {
                await error.WriteLineAsync($"cannot import {directory.FullName}: {exception.Message}".AsMemory(), ct);
                return 1;
            }

            await using var services = await MigratedServicesAsync(parse.UnmatchedTokens, ct);
            var rows = XAgentRunningRecords.ToRows(recording);
            if (showProgress)
            {
                await error.WriteLineAsync($"storing {rows.Count} records and {recording.Workspace.Count} workspace files".AsMemory(), ct);
            }

            await services.GetRequiredService<RunningRecordRepository>().ReplaceAsync(
                id, rows, recording.Workspace, ct);
            if (json)
            {
                var result = new { record_id = id, records = rows.Count, workspace_files = recording.Workspace.Count };
                await parse.InvocationConfiguration.Output.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(result).AsMemory(), ct);
                return 0;
            }

            await error.WriteLineAsync($"imported {rows.Count} records and {recording.Workspace.Count} workspace files".AsMemory(), ct);
            await parse.InvocationConfiguration.Output.WriteLineAsync(id.AsMemory(), ct);
            return 0;
        });
        import.TreatUnmatchedTokensAsErrors = false;

        var json = new Option<bool>("--json") { Description = "Print a JSON array of {record_id, rows, first_time} instead of text lines." };
        var list = new Command("list", "List the recordings imported into running_record.") { json };
        list.SetAction(async (parse, ct) =>
        {
            await using var services = await MigratedServicesAsync(parse.UnmatchedTokens, ct);
            var recordings = await services.GetRequiredService<RunningRecordRepository>().ListRecordingsAsync(ct);
            if (parse.GetValue(json))
            {
                var array = recordings.Select(r => new { record_id = r.RecordId, rows = r.Rows, first_time = DateTime.SpecifyKind(r.FirstTime, DateTimeKind.Utc) });
                await parse.InvocationConfiguration.Output.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(array).AsMemory(), ct);
                return 0;
            }

            foreach (var recording in recordings)
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync($"{recording.RecordId}\t{recording.Rows} records\t{recording.FirstTime:yyyy-MM-dd HH:mm:ss}Z".AsMemory(), ct);
            }

            return 0;
        });
        list.TreatUnmatchedTokensAsErrors = false;
        return new Command("recordings", "Manage recordings.") { import, list };
    }

    private static Command InteractionsCommand()
    {
        var olderThan = new Option<string>("--older-than")
        {
            Description = $"Delete the finished, failed and closed interactions unchanged for longer than this ({RetentionAge.Format}).",
            Required = true,
        };
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "Interactions deleted per transaction.",
            DefaultValueFactory = _ => InteractionPruner.DefaultBatchSize,
        };
        var prune = new Command(
            "prune",
            "Delete old interactions with their raws and workspace files, then the file contents no interaction names; waiting and running interactions, and those a client is attached to, are kept.")
        {
            olderThan, batchSize,
        };
        prune.SetAction(async (parse, ct) =>
        {
            if (!RetentionAge.TryParse(parse.GetValue(olderThan), out var age, out var error))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"--older-than: {error} Nothing was deleted.".AsMemory(), ct);
                return 2;
            }

            var batch = parse.GetValue(batchSize);
            if (batch is < 1 or > InteractionPruner.MaxBatchSize)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"--batch-size must be between 1 and {InteractionPruner.MaxBatchSize} (was {batch}); nothing was deleted.".AsMemory(), ct);
                return 2;
            }

            await using var services = await MigratedServicesAsync(parse.UnmatchedTokens, ct);
            var pruner = new InteractionPruner(services.GetRequiredService<InteractionRepository>(), services.GetRequiredService<WorkspaceRepository>());
            var report = await pruner.PruneAsync(age, batch, ct);
            await parse.InvocationConfiguration.Output.WriteLineAsync(report.Describe().AsMemory(), ct);
            return 0;
        });
        prune.TreatUnmatchedTokensAsErrors = false;
        return new Command("interactions", "Manage interactions.") { prune };
    }

    private static async Task<ServiceProvider> MigratedServicesAsync(IReadOnlyList<string> configArgs, CancellationToken cancellationToken)
    {
        var services = BuildServices(configArgs);
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        await DatabaseMigrator.MigrateAsync(options.Recorder!, services.GetRequiredService<ILoggerFactory>().CreateLogger("migrate"), cancellationToken);
        return services;
    }

    /// <summary>The data services with the server's configuration sources; fails with a clear message when the connection string is missing.</summary>
    private static ServiceProvider BuildServices(IReadOnlyList<string> configArgs)
    {
        var builder = Host.CreateApplicationBuilder([.. configArgs]);
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>(null, LogLevel.Warning);
        builder.AddRecorderData();
        var services = builder.Services.BuildServiceProvider();
        try
        {
            _ = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        }
        catch (OptionsValidationException exception)
        {
            services.Dispose();
            throw new InvalidOperationException(string.Join(Environment.NewLine, exception.Failures), exception);
        }

        return services;
    }
}
