using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Npgsql;
using Recorder.Data;
using Recorder.Data.Interactions;
using Recorder.Data.Migrations;
using Recorder.Data.Raws;
using Recorder.Data.Recordings;
using Recorder.Data.Users;
using Recorder.Data.Workspace;

namespace Recorder.Hub.Data;

public sealed class DatabaseOptions
{
    [Required(ErrorMessage = "ConnectionStrings:Recorder is missing: set it to the PostgreSQL connection string (env var ConnectionStrings__Recorder).")]
    public string? Recorder { get; set; }
}

public static class DataExtensions
{
    public static IHostApplicationBuilder AddRecorderData(this IHostApplicationBuilder builder)
    {
        RecorderDatabase.ConfigureDapper();
        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration("ConnectionStrings")
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Built on first use from the validated options, so a missing connection string fails with its own message.
        builder.Services.AddSingleton(sp =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.Recorder);
            // No session state is ever left on a connection (no SET, no prepared statements, only transaction-scoped
            // locks), so skip the DISCARD ALL that would otherwise cost a round trip on every reuse.
            dataSource.ConnectionStringBuilder.NoResetOnClose = true;
            // A hub that dies mid-transaction (the pusher holds its push lock across a send) must not hold its
            // locks for hours: the server ends such a session after a minute idle in a transaction, or once TCP
            // keepalives find the peer gone.
            dataSource.ConnectionStringBuilder.Options = string.Join(' ', new[]
            {
                dataSource.ConnectionStringBuilder.Options,
                "-c idle_in_transaction_session_timeout=60000",
                "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3",
            }.Where(o => !string.IsNullOrWhiteSpace(o)));
            return dataSource.UseLoggerFactory(sp.GetRequiredService<ILoggerFactory>()).Build();
        });

        builder.Services.AddSingleton<UserRepository>();
        builder.Services.AddSingleton<InteractionRepository>();
        builder.Services.AddSingleton<RawRepository>();
        builder.Services.AddSingleton<RunningRecordRepository>();
        builder.Services.AddSingleton<WorkspaceRepository>();
        builder.Services.AddHostedService<MigrationService>();
        return builder;
    }

    /// <summary>Runs first among the hosted services, so nothing touches the database before its schema is current.</summary>
    private sealed class MigrationService(IOptions<DatabaseOptions> options, ILogger<MigrationService> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) =>
            DatabaseMigrator.MigrateAsync(options.Value.Recorder!, logger, cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
