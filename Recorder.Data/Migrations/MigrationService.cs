using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Recorder.Data.Migrations;

/// <summary>Runs first among the hosted services, so nothing touches the database before its schema is current.</summary>
internal sealed class MigrationService(IOptions<DatabaseOptions> options, ILogger<MigrationService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        DatabaseMigrator.MigrateAsync(options.Value.Recorder!, logger, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
