using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Recorder.Data;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Data;

/// <summary>
/// The hub's data source prepares the statements it repeats (Npgsql's automatic preparation), unless its connection
/// string says otherwise; a statement used often enough is prepared on the PostgreSQL session.
/// </summary>
public sealed class StatementPreparationTests(DatabaseFixture fixture) : TimedTest, IClassFixture<DatabaseFixture>
{
    [Theory]
    [InlineData("", RecorderDataExtensions.MaxAutoPrepare)]
    [InlineData(";Max Auto Prepare=0", 0)]
    [InlineData(";Max Auto Prepare=7", 7)]
    public async Task TheSharedDataSourcePreparesUnlessTheConnectionStringSaysOtherwise(string suffix, int expected)
    {
        await using var app = UnstartedHub.Build(UnstartedHub.Unreachable + suffix);

        var shared = new NpgsqlConnectionStringBuilder(app.Services.GetRequiredService<NpgsqlDataSource>().ConnectionString);
        Assert.Equal(expected, shared.MaxAutoPrepare);
    }

    [Fact]
    public async Task AStatementUsedFiveTimesIsPreparedOnItsSession()
    {
        await using var app = UnstartedHub.Build(fixture.Database.ConnectionString);
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        const string Probe = "SELECT count(*) FROM interactions WHERE user_id = @userId";

        for (var i = 0; i < 5; i++)
        {
            await connection.ExecuteScalarAsync<long>(new CommandDefinition(Probe, new { userId = "nobody" }, cancellationToken: Ct));
        }

        var prepared = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT statement FROM pg_prepared_statements", cancellationToken: Ct));
        Assert.Contains(prepared, s => s.Contains("FROM interactions WHERE user_id = $1", StringComparison.Ordinal));
    }
}
