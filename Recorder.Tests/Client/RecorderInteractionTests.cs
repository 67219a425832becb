using System.Text.Json;
using Recorder.Client.Contracts;

namespace Recorder.Tests.Client;

/// <summary>The interaction contract: the bytes the hub sends as connect data, and the typed form a client reads back.</summary>
public sealed class RecorderInteractionTests
{
    private static readonly RecorderInteraction Interaction = new()
    {
        InteractionId = "i1",
        UserId = "u1",
        CreateTime = new DateTime(2026, 12, 2, 21, 5, 9, DateTimeKind.Utc),
        UpdateTime = new DateTime(2026, 12, 2, 21, 6, 0, DateTimeKind.Utc),
        Description = "XAgent Recorder",
        Agent = "XAgent",
        Mode = "auto",
        RecorderRootDir = "demo",
        Status = RecorderStatus.Waiting,
        Message = "waiting...",
        CurrentStep = null,
        CallMethod = "recorder",
        LastSeq = 7,
    };

    [Fact]
    public void TheDataIsSnakeCaseInTheHubsOrderWithTimesAsXAgentWritesThem() =>
        Assert.Equal(
            """{"interaction_id":"i1","user_id":"u1","create_time":"2026-12-02 21:05:09","update_time":"2026-12-02 21:06:00","description":"XAgent Recorder","agent":"XAgent","mode":"auto","file_list":[],"recorder_root_dir":"demo","status":"waiting","message":"waiting...","current_step":null,"is_deleted":false,"call_method":"recorder","last_seq":7}""",
            JsonSerializer.Serialize(Interaction.ToData(), RecorderProtocol.JsonOptions));

    [Fact]
    public void AConnectOrClosedEnvelopeGivesItBackTypedAndAnyOtherNone()
    {
        var connect = new RecorderEnvelope { Status = RecorderStatus.Connect, Success = true, Data = Interaction.ToData(), InteractionId = "i1" };

        var read = RecorderInteraction.Of(connect);
        Assert.Equal(Interaction with { FileList = read!.FileList }, read);
        Assert.Empty(read.FileList);
        Assert.Equal(DateTimeKind.Utc, read.CreateTime.Kind);
        Assert.Equal(Interaction, RecorderInteraction.Of(connect with { Status = RecorderStatus.Closed })! with { FileList = Interaction.FileList });
        Assert.Null(RecorderInteraction.Of(connect with { Status = RecorderStatus.Paused }));
        Assert.Null(RecorderInteraction.Of(connect with { Seq = 1, Status = RecorderStatus.Inner }));
    }
}
