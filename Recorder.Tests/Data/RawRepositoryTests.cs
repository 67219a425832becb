using System.Text.Json.Nodes;
using Dapper;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;
using Recorder.Data.Users;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Data;

public sealed class RawRepositoryTests(DatabaseFixture fixture) : TimedTest, IClassFixture<DatabaseFixture>
{
    private const string Owner = "instance-a";
    private readonly RawRepository _raws = new(fixture.Database.DataSource);
    private readonly InteractionRepository _interactions = new(fixture.Database.DataSource);

    /// <summary>A waiting interaction whose run <paramref name="owner"/> holds.</summary>
    private async Task<string> NewClaimedInteractionAsync(string owner = Owner)
    {
        var userId = $"u{Guid.NewGuid():N}";
        await new UserRepository(fixture.Database.DataSource).UpsertAsync(userId, "t", "", "", true, true, Ct);
        var id = Guid.NewGuid().ToString("N");
        await TestInteractions.InsertWaitingAsync(fixture.Database.DataSource, id, userId, Ct);
        Assert.True(await _interactions.RequestRunAsync(id, Ct));
        var claims = await _interactions.ClaimRunsAsync(owner, TimeSpan.FromMinutes(1), 1000, Ct);
        Assert.Contains(claims, c => c.InteractionId == id);
        return id;
    }

    private static RawAppend Raw(string interactionId, long seq, string status = "inner", string? interactionStatus = null) =>
        new(interactionId, seq, Guid.NewGuid().ToString("N"), status, "1.1", new JsonObject { ["n"] = seq }, false, false, interactionStatus, null);

    [Fact]
    public async Task AppendedRawsGetGapFreeSeqsInWriteOrder()
    {
        var id = await NewClaimedInteractionAsync();
        for (var seq = 1; seq <= 5; seq++)
        {
            Assert.Equal(AppendOutcome.Written, await _raws.AppendAsync(Raw(id, seq), Owner, Ct));
        }

        var rows = await _raws.ListAfterAsync(id, 0, 100, Ct);
        Assert.Equal([1L, 2, 3, 4, 5], rows.Select(r => r.Seq));
        Assert.Equal([1, 2, 3, 4, 5], rows.Select(r => r.ReadData()!.Value.GetProperty("n").GetInt32()));
    }

    [Fact]
    public async Task ASeqThatSkipsOrRepeatsIsRefused()
    {
        var id = await NewClaimedInteractionAsync();
        Assert.Equal(AppendOutcome.Written, await _raws.AppendAsync(Raw(id, 1), Owner, Ct));
        Assert.Equal(AppendOutcome.Refused, await _raws.AppendAsync(Raw(id, 3), Owner, Ct));
        Assert.Equal(AppendOutcome.Refused, await _raws.AppendAsync(Raw(id, 1), Owner, Ct));
        Assert.Single(await _raws.ListAfterAsync(id, 0, 100, Ct));
    }

    [Fact]
    public async Task RetryingAnAppendThatCommittedIsNotADuplicate()
    {
        var id = await NewClaimedInteractionAsync();
        var raw = Raw(id, 1);
        Assert.Equal(AppendOutcome.Written, await _raws.AppendAsync(raw, Owner, Ct));
        Assert.Equal(AppendOutcome.Written, await _raws.AppendAsync(raw, Owner, Ct));
        Assert.Single(await _raws.ListAfterAsync(id, 0, 100, Ct));
    }

    [Fact]
    public async Task NothingIsWrittenAfterTheInteractionIsClosed()
    {
        var id = await NewClaimedInteractionAsync();
        Assert.Equal(AppendOutcome.Written, await _raws.AppendAsync(Raw(id, 1), Owner, Ct));
        await using (var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct))
        {
            // Its last connection left (the reaper looks only at interactions with detached_since set).
            await connection.ExecuteAsync("UPDATE interactions SET detached_since = now() WHERE interaction_id = @id", new { id });
        }

        Assert.Contains(id, await _interactions.CloseAbandonedAsync("nobody", TimeSpan.Zero, TimeSpan.FromMinutes(1), Ct));

        Assert.Equal(AppendOutcome.Refused, await _raws.AppendAsync(Raw(id, 2), Owner, Ct));
        Assert.Equal("closed", (await _interactions.FindAsync(id, Ct))!.Status);
        Assert.Single(await _raws.ListAfterAsync(id, 0, 100, Ct));
    }

    [Fact]
    public async Task OnlyTheRunOwnerCanWrite()
    {
        var id = await NewClaimedInteractionAsync();
        Assert.Equal(AppendOutcome.Refused, await _raws.AppendAsync(Raw(id, 1), "instance-b", Ct));
        Assert.Empty(await _raws.ListAfterAsync(id, 0, 100, Ct));
    }

    [Fact]
    public async Task TheTerminalRawEndsTheInteractionInTheSameTransaction()
    {
        var id = await NewClaimedInteractionAsync();
        await _raws.AppendAsync(Raw(id, 1, "running", "running"), Owner, Ct);
        Assert.Equal("running", (await _interactions.FindAsync(id, Ct))!.Status);
        await _raws.AppendAsync(Raw(id, 2, "finished", "finished"), Owner, Ct);

        var interaction = (await _interactions.FindAsync(id, Ct))!;
        Assert.Equal("finished", interaction.Status);
        Assert.Equal(2, interaction.LastSeq);
        Assert.Equal(AppendOutcome.Refused, await _raws.AppendAsync(Raw(id, 3), Owner, Ct));
    }

    [Fact]
    public async Task AGroupCommitNotifiesOnceWithEachInteractionsLastSeq()
    {
        var first = await NewClaimedInteractionAsync();
        var second = await NewClaimedInteractionAsync();
        await using var listener = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        var received = new List<string>();
        listener.Notification += (_, e) => received.Add(e.Payload);
        await listener.ExecuteAsync("LISTEN raw_committed");

        var outcomes = await _raws.AppendAsync(
            [new RawAppendGroup(Owner, [Raw(first, 1), Raw(first, 2), Raw(first, 3)]), new RawAppendGroup(Owner, [Raw(second, 1)])], Ct);
        Assert.Equal([AppendOutcome.Written, AppendOutcome.Written], outcomes);

        // One notification for the statement; a second append proves the first one was the only one.
        await _raws.AppendAsync(Raw(second, 2), Owner, Ct);
        await Eventually.UntilAsync(async () =>
        {
            await listener.WaitAsync(TimeSpan.FromMilliseconds(100), Ct);
            return received.Count;
        }, n => n >= 2, TestEnvironment.Timeout, "two notifications");
        Assert.Equal(string.Join(',', new[] { $"{first}:3", $"{second}:1" }.Order(StringComparer.Ordinal)), received[0]);
        Assert.Equal($"{second}:2", received[1]);
    }

    [Fact]
    public async Task AFencedOutGroupIsRefusedAloneAndTheRestOfTheBatchCommits()
    {
        var healthy = await NewClaimedInteractionAsync();
        var closed = await NewClaimedInteractionAsync();
        var taken = await NewClaimedInteractionAsync(owner: "instance-b");
        var gap = await NewClaimedInteractionAsync();
        await using (var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("UPDATE interactions SET status = 'closed' WHERE interaction_id = @closed", new { closed });
        }

        var outcomes = await _raws.AppendAsync(
        [
            new RawAppendGroup(Owner, [Raw(healthy, 1), Raw(healthy, 2)]),
            new RawAppendGroup(Owner, [Raw(closed, 1)]),
            new RawAppendGroup(Owner, [Raw(taken, 1)]), // instance-b holds its lease
            new RawAppendGroup(Owner, [Raw(gap, 2)]),   // seq 1 is missing
        ], Ct);

        Assert.Equal([AppendOutcome.Written, AppendOutcome.Refused, AppendOutcome.Refused, AppendOutcome.Refused], outcomes);
        Assert.Equal([1L, 2], (await _raws.ListAfterAsync(healthy, 0, 100, Ct)).Select(r => r.Seq));
        foreach (var refused in new[] { closed, taken, gap })
        {
            Assert.Empty(await _raws.ListAfterAsync(refused, 0, 100, Ct));
            Assert.Equal(0, (await _interactions.FindAsync(refused, Ct))!.LastSeq);
        }

        Assert.Equal(2, (await _interactions.FindAsync(healthy, Ct))!.LastSeq);
    }

    [Fact]
    public async Task ARetriedGroupThatHadCommittedIsWrittenNotRefused()
    {
        var id = await NewClaimedInteractionAsync();
        var group = new RawAppendGroup(Owner, [Raw(id, 1), Raw(id, 2)]);
        Assert.Equal([AppendOutcome.Written], await _raws.AppendAsync([group], Ct));
        Assert.Equal([AppendOutcome.Written], await _raws.AppendAsync([group], Ct));
        Assert.Equal([AppendOutcome.Refused], await _raws.AppendAsync([new RawAppendGroup(Owner, [Raw(id, 2)])], Ct));
        Assert.Equal([1L, 2], (await _raws.ListAfterAsync(id, 0, 100, Ct)).Select(r => r.Seq));
    }

    [Fact]
    public async Task OneReadServesManyCursorsEachFromItsOwnSeq()
    {
        var first = await NewClaimedInteractionAsync();
        var second = await NewClaimedInteractionAsync();
        await _raws.AppendAsync([new RawAppendGroup(Owner, [.. Enumerable.Range(1, 6).Select(n => Raw(first, n))]),
            new RawAppendGroup(Owner, [.. Enumerable.Range(1, 3).Select(n => Raw(second, n))])], Ct);

        var rows = await _raws.ListAfterAsync([new RawCursor(first, 2), new RawCursor(second, 0)], 3, Ct);

        Assert.Equal([3L, 4, 5], rows.Where(r => r.InteractionId == first).Select(r => r.Seq));
        Assert.Equal([1L, 2, 3], rows.Where(r => r.InteractionId == second).Select(r => r.Seq));

        // A cursor's own limit, below the read's: as many as its connection has room for.
        var limited = await _raws.ListAfterAsync([new RawCursor(first, 2, Limit: 1), new RawCursor(second, 0, Limit: 10)], 3, Ct);
        Assert.Equal([3L], limited.Where(r => r.InteractionId == first).Select(r => r.Seq));
        Assert.Equal([1L, 2, 3], limited.Where(r => r.InteractionId == second).Select(r => r.Seq));
    }

    [Fact]
    public async Task MarkSentMarksEachInteractionsRangeOnly()
    {
        var first = await NewClaimedInteractionAsync();
        var second = await NewClaimedInteractionAsync();
        await _raws.AppendAsync([new RawAppendGroup(Owner, [Raw(first, 1), Raw(first, 2), Raw(first, 3)]),
            new RawAppendGroup(Owner, [Raw(second, 1), Raw(second, 2)])], Ct);
        Assert.All(await _raws.ListAfterAsync(first, 0, 100, Ct), r => Assert.False(r.IsSend));

        await _raws.MarkSentAsync([(first, 2, 2), (second, 1, 2)], Ct);

        Assert.Equal([false, true, false], (await _raws.ListAfterAsync(first, 0, 100, Ct)).Select(r => r.IsSend));
        Assert.Equal([true, true], (await _raws.ListAfterAsync(second, 0, 100, Ct)).Select(r => r.IsSend));
    }

    [Fact]
    public async Task TokensAreStoredOnlyAsHashes()
    {
        var users = new UserRepository(fixture.Database.DataSource);
        var token = $"secret-{Guid.NewGuid():N}";
        var userId = $"u{Guid.NewGuid():N}";
        await users.UpsertAsync(userId, token, "", "", true, true, Ct);

        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        var stored = await connection.QuerySingleAsync<string>("SELECT row_to_json(u)::text FROM users u WHERE user_id = @userId", new { userId });
        Assert.DoesNotContain(token, stored, StringComparison.Ordinal);
        var user = (await users.FindAsync(userId, Ct))!;
        Assert.True(TokenHash.Matches(token, user.TokenHash));
        Assert.False(TokenHash.Matches(token + "x", user.TokenHash));
    }
}
