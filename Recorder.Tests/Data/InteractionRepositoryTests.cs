using Dapper;
using Recorder.Data.Interactions;
using Recorder.Data.Users;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Data;

public sealed class InteractionRepositoryTests(DatabaseFixture fixture) : TimedTest, IClassFixture<DatabaseFixture>
{
    private readonly InteractionRepository _interactions = new(fixture.Database.DataSource);
    private readonly Dictionary<string, string> _owners = new(StringComparer.Ordinal);

    private string UserOf(string interactionId) => _owners[interactionId];

    private async Task<string> NewRequestedRunAsync()
    {
        var userId = $"u{Guid.NewGuid():N}";
        await new UserRepository(fixture.Database.DataSource).UpsertAsync(userId, "t", "", "", true, true, Ct);
        var id = Guid.NewGuid().ToString("N");
        await TestInteractions.InsertWaitingAsync(fixture.Database.DataSource, id, userId, Ct);
        _owners[id] = userId;
        Assert.True(await _interactions.RequestRunAsync(id, Ct));
        return id;
    }

    [Fact]
    public async Task APageOfAUsersInteractionsIsReadFromAnIndexInItsOrderWithoutSortingTheUsersRows()
    {
        var userId = $"u{Guid.NewGuid():N}";
        await new UserRepository(fixture.Database.DataSource).UpsertAsync(userId, "t", "", "", true, true, Ct);
        for (var i = 0; i < 30; i++)
        {
            await TestInteractions.InsertWaitingAsync(fixture.Database.DataSource, Guid.NewGuid().ToString("N"), userId, Ct);
        }

        var page = await _interactions.ListByUserAsync(userId, null, 10, Ct);
        var next = await _interactions.ListByUserAsync(userId, (page[^1].CreateTime, page[^1].InteractionId), 10, Ct);
        Assert.Equal(20, page.Concat(next).Select(i => i.InteractionId).Distinct().Count());

        // The planner on a small table would scan it; with scans off, what is left shows whether an index serves the
        // order: without one the plan sorts the user's rows, with it a page is a walk along the index.
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await connection.ExecuteAsync("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off", transaction: transaction).WaitAsync(Ct);
        var plan = string.Join("\n", await connection.QueryAsync<string>("""
            EXPLAIN SELECT interaction_id FROM interactions
            WHERE user_id = @userId AND NOT is_deleted AND (create_time, interaction_id) < (@createTime, @interactionId)
            ORDER BY create_time DESC, interaction_id DESC
            LIMIT 10
            """, new { userId, createTime = page[^1].CreateTime, interactionId = page[^1].InteractionId }, transaction).WaitAsync(Ct));
        Assert.Contains("interactions_user_created", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", plan, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASecondRequestOfARunIsANoOp()
    {
        var id = await NewRequestedRunAsync();
        Assert.False(await _interactions.RequestRunAsync(id, Ct));
    }

    [Fact]
    public async Task ARequestNamingAnOwnerTakesTheLeaseAtOnceAndNoClaimFindsTheRunAfterwards()
    {
        var userId = $"u{Guid.NewGuid():N}";
        await new UserRepository(fixture.Database.DataSource).UpsertAsync(userId, "t", "", "", true, true, Ct);
        var id = Guid.NewGuid().ToString("N");
        await TestInteractions.InsertWaitingAsync(fixture.Database.DataSource, id, userId, Ct);

        var outcome = await _interactions.RequestRunAsync(id, "instance-here", TimeSpan.FromMinutes(1), Ct);
        Assert.True(outcome.Requested);
        var claim = Assert.IsType<RunClaim>(outcome.Claim);
        Assert.Equal((id, userId, "test", 0L), (claim.InteractionId, claim.UserId, claim.RecorderDir, claim.LastSeq));
        await using (var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct))
        {
            var row = await connection.QuerySingleAsync<(string Owner, bool Requested, bool Leased)>(
                "SELECT run_owner, run_requested, run_lease_until > now() FROM interactions WHERE interaction_id = @id", new { id });
            Assert.Equal(("instance-here", true, true), row);
        }

        Assert.DoesNotContain(await _interactions.ClaimRunsAsync("elsewhere", TimeSpan.FromMinutes(1), 10_000, Ct), c => c.InteractionId == id);
        var again = await _interactions.RequestRunAsync(id, "elsewhere", TimeSpan.FromMinutes(1), Ct);
        Assert.Equal(new RunRequestOutcome(false, null), again);
    }

    [Fact]
    public async Task ARunUnderALiveLeaseIsNotClaimedByAnotherInstanceButAnExpiredOneIs()
    {
        var id = await NewRequestedRunAsync();
        var first = await _interactions.ClaimRunsAsync("a", TimeSpan.FromMinutes(1), 10_000, Ct);
        Assert.Contains(first, c => c.InteractionId == id);

        var second = await _interactions.ClaimRunsAsync("b", TimeSpan.FromMinutes(1), 10_000, Ct);
        Assert.DoesNotContain(second, c => c.InteractionId == id);

        // "a" stops renewing: its last renewal leaves the lease to run out at once.
        Assert.Equal([id], await _interactions.RenewLeasesAsync("a", [id], TimeSpan.FromMilliseconds(1), Ct));

        var taken = await Eventually.UntilAsync(
            () => _interactions.ClaimRunsAsync("b", TimeSpan.FromMinutes(1), 10_000, Ct),
            claims => claims.Any(c => c.InteractionId == id), TestEnvironment.Timeout, "the expired lease to be taken over");
        Assert.Contains(taken, c => c.InteractionId == id);
        Assert.Empty(await _interactions.RenewLeasesAsync("a", [id], TimeSpan.FromMinutes(1), Ct));
        Assert.Equal([id], await _interactions.RenewLeasesAsync("b", [id], TimeSpan.FromMinutes(1), Ct));
    }

    [Fact]
    public async Task ClaimsRespectTheNumberOfFreeSlots()
    {
        for (var i = 0; i < 3; i++)
        {
            await NewRequestedRunAsync();
        }

        var claims = await _interactions.ClaimRunsAsync($"slots-{Guid.NewGuid():N}", TimeSpan.FromMinutes(1), 2, Ct);
        Assert.Equal(2, claims.Count);
    }

    private Task<IReadOnlyList<string>> CloseAbandonedAsync(string self, TimeSpan grace, TimeSpan instanceTimeout) =>
        _interactions.CloseAbandonedAsync(self, grace, instanceTimeout, Ct);

    [Fact]
    public async Task TheGraceStartsWhenTheLastConnectionLeaves()
    {
        var id = await NewRequestedRunAsync();
        await _interactions.HeartbeatAsync("inst", Ct);
        await _interactions.AttachConnectionAsync("c1", id, UserOf(id), "inst", Ct);
        await _interactions.AttachConnectionAsync("c2", id, UserOf(id), "inst", Ct);

        await _interactions.DetachConnectionAsync("c1", Ct);
        Assert.DoesNotContain(id, await CloseAbandonedAsync("other", TimeSpan.Zero, TimeSpan.FromMinutes(1)));

        await _interactions.DetachConnectionAsync("c2", Ct);
        Assert.DoesNotContain(id, await CloseAbandonedAsync("other", TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1)));
        await Eventually.UntilAsync(
            () => CloseAbandonedAsync("other", TimeSpan.Zero, TimeSpan.FromMinutes(1)),
            ids => ids.Contains(id), TestEnvironment.Timeout, "the interaction to be closed");
        Assert.Equal("closed", (await _interactions.FindAsync(id, Ct))!.Status);
    }

    [Fact]
    public async Task ConnectionsOfADeadInstanceDoNotKeepAnInteractionAliveButOurOwnDo()
    {
        var id = await NewRequestedRunAsync();
        var instance = $"dead-{Guid.NewGuid():N}";
        await _interactions.HeartbeatAsync(instance, Ct);
        await _interactions.AttachConnectionAsync("only", id, UserOf(id), instance, Ct);
        await using (var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct))
        {
            // The grace has started (a detach that raced the attach): the reaper now looks at it, and the connection
            // that remains is what decides.
            await connection.ExecuteAsync("UPDATE interactions SET detached_since = now() WHERE interaction_id = @id", new { id });
        }

        Assert.DoesNotContain(id, await CloseAbandonedAsync("other", TimeSpan.Zero, TimeSpan.FromMinutes(1)));

        // With a heartbeat timeout of zero every instance counts as dead, except the one asking.
        Assert.DoesNotContain(id, await CloseAbandonedAsync(instance, TimeSpan.Zero, TimeSpan.Zero));
        await Eventually.UntilAsync(
            () => CloseAbandonedAsync("other", TimeSpan.Zero, TimeSpan.Zero),
            ids => ids.Contains(id), TestEnvironment.Timeout, "the dead instance's connection to stop counting");
    }

    [Fact]
    public async Task PruningADeadInstanceStartsTheGraceOfItsInteractions()
    {
        var id = await NewRequestedRunAsync();
        var instance = $"dead-{Guid.NewGuid():N}";
        await _interactions.HeartbeatAsync(instance, Ct);
        await _interactions.AttachConnectionAsync($"c-{instance}", id, UserOf(id), instance, Ct);

        await Eventually.UntilAsync(
            () => _interactions.PruneDeadInstancesAsync(TimeSpan.Zero, Ct),
            n => n >= 1, TestEnvironment.Timeout, "the dead instance to be pruned");
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        Assert.NotNull(await connection.ExecuteScalarAsync<DateTime?>(
            "SELECT detached_since FROM interactions WHERE interaction_id = @id", new { id }));
    }

    [Fact]
    public async Task AConnectionWhoseInstanceHasNoRowIsPrunedOnceItIsOlderThanTheTimeout()
    {
        var id = await NewRequestedRunAsync();
        var instance = $"removed-{Guid.NewGuid():N}";
        await _interactions.AttachConnectionAsync($"c-{instance}", id, UserOf(id), instance, Ct);

        // Younger than the timeout: it may be a connect of a live instance whose row a peer just pruned; kept.
        await _interactions.PruneDeadInstancesAsync(TimeSpan.FromMinutes(1), Ct);
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        const string Recorded = "SELECT count(*) FROM hub_connections WHERE instance_id = @instance";
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(Recorded, new { instance }));

        await Eventually.UntilAsync(
            async () =>
            {
                await _interactions.PruneDeadInstancesAsync(TimeSpan.Zero, Ct);
                return await connection.ExecuteScalarAsync<long>(Recorded, new { instance });
            },
            n => n == 0, TestEnvironment.Timeout, "the orphaned connection to be pruned");
        Assert.NotNull(await connection.ExecuteScalarAsync<DateTime?>(
            "SELECT detached_since FROM interactions WHERE interaction_id = @id", new { id }));
    }
}
