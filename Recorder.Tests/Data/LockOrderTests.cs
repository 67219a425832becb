using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Data;

/// <summary>
/// The statements that update many interaction rows at once (the group commit, lease renewal, run requests) lock them
/// in one order, so they never deadlock each other: a deadlock stalls every run of the batch for PostgreSQL's
/// deadlock_timeout (1 s) before one side is cancelled and retried.
/// </summary>
public sealed class LockOrderTests(DatabaseFixture fixture) : TimedTest, IClassFixture<DatabaseFixture>
{
    private const string Owner = "instance-lock-order";

    [Fact]
    public async Task ConcurrentGroupCommitsLeaseRenewalsAndRequestsOfTheSameInteractionsNeverDeadlock()
    {
        var applicationName = $"lock-order-{Guid.NewGuid():N}";
        var ids = await TestInteractions.InsertWaitingAsync(fixture.Database.DataSource, 400, Ct);
        var seqs = ids.ToDictionary(id => id, _ => 0L);
        var before = await DeadlocksAsync();
        // Plans as a big table gets them (index lookups in the order of the statement's own input), whatever the size
        // of this one: the lock order must not depend on the plan PostgreSQL picks.
        var builder = new NpgsqlDataSourceBuilder(fixture.Database.ConnectionString)
        {
            ConnectionStringBuilder = { ApplicationName = applicationName, Options = "-c enable_seqscan=off -c enable_hashjoin=off -c enable_mergejoin=off" },
        };
        await using (var dataSource = builder.Build())
        {
            var interactions = new InteractionRepository(dataSource);
            var raws = new RawRepository(dataSource);
            foreach (var id in ids)
            {
                Assert.True(await interactions.RequestRunAsync(id, Ct));
            }

            Assert.Superset(ids.ToHashSet(), (await interactions.ClaimRunsAsync(Owner, TimeSpan.FromMinutes(5), 1000, Ct)).Select(c => c.InteractionId).ToHashSet());

            // Renewals take the rows in one order while the writer commits small batches naming them in the other.
            var sorted = ids.Order(StringComparer.Ordinal).ToList();
            for (var round = 0; round < 10; round++)
            {
                var renewals = new[] { sorted, Enumerable.Reverse(sorted).ToList() }
                    .Select(order => Task.Run(() => interactions.RenewLeasesAsync(Owner, order, TimeSpan.FromMinutes(5), Ct))).ToList();
                for (var k = 0; k < 20; k++)
                {
                    var pair = new[] { sorted[^(1 + k)], sorted[k] };
                    var outcomes = await raws.AppendAsync([.. pair.Select(id => new RawAppendGroup(Owner, [Raw(id, ++seqs[id])]))], Ct)
                        .WaitAsync(TestEnvironment.Timeout);
                    Assert.All(outcomes, o => Assert.Equal(AppendOutcome.Written, o));
                }

                Assert.All(await Task.WhenAll(renewals).WaitAsync(TestEnvironment.Timeout), kept => Assert.Equal(ids.Count, kept.Count));
            }

            foreach (var id in ids)
            {
                Assert.Equal(Enumerable.Range(1, (int)seqs[id]).Select(s => (long)s), (await raws.ListAfterAsync(id, 0, 1000, Ct)).Select(r => r.Seq));
            }
        }

        // A backend reports its statistics (a deadlock it was the victim of among them) at the latest when it exits.
        await Eventually.UntilAsync(() => BackendsAsync(applicationName), n => n == 0, TestEnvironment.Timeout, "the test's sessions to end");
        Assert.Equal(before, await DeadlocksAsync());
    }

    private static RawAppend Raw(string interactionId, long seq) =>
        new(interactionId, seq, Guid.NewGuid().ToString("N"), "inner", "1.1", new JsonObject { ["n"] = seq }, false, false, null, null);

    private async Task<long> BackendsAsync(string applicationName)
    {
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE application_name = @applicationName", new { applicationName });
    }

    private async Task<long> DeadlocksAsync()
    {
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        // Read fresh, not from this session's statistics snapshot.
        await connection.ExecuteAsync("SELECT pg_stat_clear_snapshot()");
        return await connection.ExecuteScalarAsync<long>("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
    }
}
