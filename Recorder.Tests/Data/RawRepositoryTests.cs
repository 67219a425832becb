using System.Text.Json.Nodes;
using Dapper;
using Recorder.Data.Interactions;
using Recorder.Data.Raws;
using Recorder.Data.Users;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Data;

public sealed class RawRepositoryTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private const string Owner = "instance-a";
    private readonly RawRepository _raws = new(fixture.Database.DataSource);
    private readonly InteractionRepository _interactions = new(fixture.Database.DataSource);
    private static CancellationToken Ct => new CancellationTokenSource(TestEnvironment.Timeout).Token;

    /// <summary>A waiting interaction whose run <paramref name="owner"/> holds.</summary>
    private async Task<string> NewClaimedInteractionAsync(string owner = Owner)
    {
        var userId = $"u{Guid.NewGuid():N}";
        await new UserRepository(fixture.Database.DataSource).UpsertAsync(userId, "t", "", "", true, true, Ct);
        var id = Guid.NewGuid().ToString("N");
        await _interactions.CreateAsync(new InteractionRow { InteractionId = id, UserId = userId, Status = "waiting" }, refuseIfUserBusy: false, Ct);
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
        Assert.Equal([1, 2, 3, 4, 5], rows.Select(r => r.Data!["n"]!.GetValue<int>()));
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
    public async Task AnInsertNotifiesWithTheInteractionId()
    {
        var id = await NewClaimedInteractionAsync();
        await using var listener = await fixture.Database.DataSource.OpenConnectionAsync(Ct);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.Notification += (_, e) => received.TrySetResult(e.Payload);
        await listener.ExecuteAsync("LISTEN raw_inserted");

        await _raws.AppendAsync(Raw(id, 1), Owner, Ct);
        var wait = listener.WaitAsync(Ct);
        Assert.Equal(id, await received.Task.WaitAsync(TestEnvironment.Timeout));
        await wait.WaitAsync(TestEnvironment.Timeout);
    }

    [Fact]
    public async Task PushMarksRawsSentOnlyAfterTheSendSucceeded()
    {
        var id = await NewClaimedInteractionAsync();
        for (var seq = 1; seq <= 3; seq++)
        {
            await _raws.AppendAsync(Raw(id, seq), Owner, Ct);
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _raws.PushUnsentAsync(id, 100, (_, _) => throw new InvalidOperationException("send failed"), Ct));
        Assert.All(await _raws.ListAfterAsync(id, 0, 100, Ct), r => Assert.False(r.IsSend));

        var sent = new List<long>();
        Assert.Equal(2, await _raws.PushUnsentAsync(id, 2, (rows, _) => { sent.AddRange(rows.Select(r => r.Seq)); return Task.CompletedTask; }, Ct));
        Assert.Equal(1, await _raws.PushUnsentAsync(id, 2, (rows, _) => { sent.AddRange(rows.Select(r => r.Seq)); return Task.CompletedTask; }, Ct));
        Assert.Equal(0, await _raws.PushUnsentAsync(id, 2, (_, _) => throw new InvalidOperationException("nothing to send"), Ct));
        Assert.Equal([1L, 2, 3], sent);
        Assert.All(await _raws.ListAfterAsync(id, 0, 100, Ct), r => Assert.True(r.IsSend));
    }

    [Fact]
    public async Task WhileOnePusherHoldsAnInteractionAnotherStepsAsideAtOnce()
    {
        var id = await NewClaimedInteractionAsync();
        await _raws.AppendAsync(Raw(id, 1), Owner, Ct);
        var other = new RawRepository(fixture.Database.DataSource);
        int? secondPushed = null;

        var firstPushed = await _raws.PushUnsentAsync(id, 10, async (_, ct) =>
        {
            secondPushed = await other.PushUnsentAsync(id, 10, (_, _) => throw new InvalidOperationException("must not send"), ct);
        }, Ct);

        Assert.Equal(1, firstPushed);
        Assert.Equal(0, secondPushed);
        Assert.All(await _raws.ListAfterAsync(id, 0, 100, Ct), r => Assert.True(r.IsSend));
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
