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
