using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Recorder.Data.Interactions;
using Recorder.Data.Migrations;
using Recorder.Data.Raws;
using Recorder.Data.Recordings;
using Recorder.Data.Users;
using Recorder.Data.Workspace;

namespace Recorder.Data;

/// <summary>
/// The data layer registers itself: the options, the two data sources (Npgsql's own registration), the repositories and
/// the migration that runs before every other hosted service. The hub and the CLI call <see cref="AddRecorderData"/>.
/// </summary>
public static class RecorderDataExtensions
{
    /// <summary>The key of the data source of the notification listener (<c>[FromKeyedServices(ListenerDataSource)]</c>).</summary>
    public const string ListenerDataSource = "listener";

    /// <summary>Seconds of silence on the listener's connection before Npgsql sends a keepalive (and fails it when no answer comes).</summary>
    public const int ListenerKeepAlive = 30;

    /// <summary>Statements Npgsql prepares per connection at most (its LRU), unless the connection string says otherwise.</summary>
    public const int MaxAutoPrepare = 64;

    public static IHostApplicationBuilder AddRecorderData(this IHostApplicationBuilder builder)
    {
        RecorderDatabase.ConfigureDapper();
        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration("ConnectionStrings")
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Npgsql's own registration (its logger factory is the host's); built on first use, after the options were
        // validated, so a missing connection string fails with its own message.
        var connectionString = builder.Configuration.GetConnectionString("Recorder") ?? "";
        builder.Services.AddNpgsqlDataSource(connectionString, Configure(keepAlive: 0), serviceKey: null);

        // The notification listener's connection (its own data source, a pool of one): Npgsql's keepalive finds a
        // dead connection while it waits for notifications, every ListenerKeepAlive seconds.
        builder.Services.AddNpgsqlDataSource(connectionString, Configure(ListenerKeepAlive), serviceKey: ListenerDataSource);

        builder.Services.AddSingleton<UserRepository>();
        builder.Services.AddSingleton<InteractionRepository>();
        builder.Services.AddSingleton<RawRepository>();
        builder.Services.AddSingleton<RunningRecordRepository>();
        builder.Services.AddSingleton<WorkspaceRepository>();
        builder.Services.AddHostedService<MigrationService>();
        return builder;
    }

    private static Action<IServiceProvider, NpgsqlDataSourceBuilder> Configure(int keepAlive) => (services, dataSource) =>
    {
        _ = services.GetRequiredService<IOptions<DatabaseOptions>>().Value; // fails with the options' own message

        // No session state is ever left on a connection (no SET, only transaction-scoped locks; the prepared statements
        // below are Npgsql's own and meant to outlive a reuse), so skip the DISCARD ALL that would otherwise cost a round
        // trip on every reuse.
        dataSource.ConnectionStringBuilder.NoResetOnClose = true;

        // The hub sends a few dozen statements over and over: prepared once per connection (after their fifth use), they
        // skip PostgreSQL's parse and, once it settles on a generic plan, the planning (the connect statement's planning
        // was 0.5 of its 0.6 ms; connects/s +34 % on 2 cores: docs/benchmarks.md). A connection string that sets
        // Max Auto Prepare (0 turns it off) wins.
        if (!MentionsMaxAutoPrepare(dataSource.ConnectionString))
        {
            dataSource.ConnectionStringBuilder.MaxAutoPrepare = MaxAutoPrepare;
        }

        // A hub that dies mid-transaction must not hold its locks for hours: the server ends such a session after a
        // minute idle in a transaction, or once TCP keepalives find the peer gone.
        dataSource.ConnectionStringBuilder.Options = string.Join(' ', new[]
        {
            dataSource.ConnectionStringBuilder.Options,
            "-c idle_in_transaction_session_timeout=60000",
            "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3",
        }.Where(o => !string.IsNullOrWhiteSpace(o)));
        if (keepAlive > 0)
        {
            dataSource.ConnectionStringBuilder.KeepAlive = keepAlive;
            dataSource.ConnectionStringBuilder.MaxPoolSize = 1;
        }
    };

    private static bool MentionsMaxAutoPrepare(string connectionString)
    {
        var keys = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return keys.ContainsKey("Max Auto Prepare") || keys.ContainsKey("MaxAutoPrepare");
    }
}
