using System.Text.Json;
using MessagePack;
using Recorder.Client.Contracts;

namespace Recorder.Tests.Client;

public sealed class RecorderMessagePackTests
{
    private const string Data = """{"n":1.10,"big":123456789012345678901234567890,"text":"é 中 <b>\"q\"</b>","list":[true,null,{"k":[]}],"neg":-0}""";

    private static RecorderEnvelope Envelope(string? data) => new()
    {
        Status = RecorderStatus.Inner,
        Success = true,
        Message = "success",
        Data = data is null ? null : JsonDocument.Parse(data).RootElement.Clone(),
        Current = "1",
        NodeId = "node",
        WorkspaceFileList = [new WorkspaceFileEntry("plot.png", "png"), new WorkspaceFileEntry("README", "README")],
        InteractionId = "abc",
        Seq = 7,
    };

    [Fact]
    public void DataTravelsAsTheJsonTextTheJsonProtocolWrites()
    {
        var envelope = Envelope(Data);
        var bytes = RecorderMessagePack.Serialize(envelope);

        var reader = new MessagePackReader(bytes);
        var keys = new Dictionary<string, MessagePackType>();
        string? dataText = null;
        for (var count = reader.ReadMapHeader(); count > 0; count--)
        {
            var key = reader.ReadString()!;
            keys[key] = reader.NextMessagePackType;
            if (key == "data")
            {
                dataText = reader.ReadString();
            }
            else
            {
                reader.Skip();
            }
        }

        Assert.Equal(
            ["status", "success", "message", "data", "current", "node_id", "workspace_file_list", "interaction_id", "seq"],
            keys.Keys);
        Assert.Equal(MessagePackType.String, keys["data"]);
        var json = JsonSerializer.Serialize(envelope, RecorderProtocol.JsonOptions);
        using var parsed = JsonDocument.Parse(json);
        Assert.Equal(parsed.RootElement.GetProperty("data").GetRawText(), dataText);
    }

    [Theory]
    [InlineData(Data)]
    [InlineData("\"a failure text\"")]
    [InlineData(null)]
    public void AnEnvelopeReadBackSerializesToTheSameJson(string? data)
    {
        var envelope = Envelope(data);
        var back = RecorderMessagePack.Deserialize(RecorderMessagePack.Serialize(envelope));

        Assert.Equal(JsonSerializer.Serialize(envelope, RecorderProtocol.JsonOptions), JsonSerializer.Serialize(back, RecorderProtocol.JsonOptions));
    }

    [Fact]
    public void DataThatIsNotJsonIsRefusedClearly()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(2);
        writer.Write("status");
        writer.Write("inner");
        writer.Write("data");
        writer.Write("{not json");
        writer.Flush();

        var error = Assert.Throws<MessagePackSerializationException>(() => RecorderMessagePack.Deserialize(buffer.WrittenMemory));
        Assert.IsAssignableFrom<JsonException>(error.InnerException);
    }
}
