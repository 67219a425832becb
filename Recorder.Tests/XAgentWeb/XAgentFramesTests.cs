using System.Text.Json;
using Recorder.Client.Contracts;
using Recorder.Hub.XAgentWeb;

namespace Recorder.Tests.XAgentWeb;

/// <summary>The frame texts of the XAgent web socket, byte for byte where the original's json.dumps fixes them.</summary>
public sealed class XAgentFramesTests
{
    [Fact]
    public void ARawFrameIsIndentedByTwoWithTheOriginalsKeyOrderAndTextAsItIs()
    {
        var envelope = new RecorderEnvelope
        {
            Status = RecorderStatus.Inner,
            Success = true,
            Message = "success",
            Data = JsonSerializer.SerializeToElement(new { thoughts = "测试 \"quoted\" ✓", list = Array.Empty<int>(), nothing = (string?)null }),
            Current = "1.1",
            NodeId = "n1",
            WorkspaceFileList = [new WorkspaceFileEntry("plot.png", "png")],
            InteractionId = "i1",
            Seq = 3,
        };

        Assert.Equal("""
            {
              "data": {
                "thoughts": "测试 \"quoted\" ✓",
                "list": [],
                "nothing": null
              },
              "status": "inner",
              "message": "success",
              "success": true,
              "current": "1.1",
              "node_id": "n1",
              "workspace_file_list": [
                {
                  "name": "plot.png",
                  "suffix": "png"
                }
              ],
              "interaction_id": "i1",
              "seq": 3
            }
            """.ReplaceLineEndings("\n"), XAgentFrames.Of(envelope));
    }

    [Fact]
    public void TheConnectFramePutsTheInteractionsKeysInTheOriginalsOrderAndKeepsTheRest()
    {
        var data = JsonSerializer.SerializeToElement(new Dictionary<string, object?>
        {
            ["last_seq"] = 0, ["call_method"] = "recorder", ["update_time"] = "u", ["interaction_id"] = "i1", ["create_time"] = "c",
        });
        var frame = XAgentFrames.Of(new RecorderEnvelope { Status = RecorderStatus.Connect, Success = true, Message = "connect success", Data = data, InteractionId = "i1" });

        using var document = JsonDocument.Parse(frame);
        Assert.Equal(["data", "status", "message", "success", "interaction_id", "seq"], document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["interaction_id", "create_time", "update_time", "call_method", "last_seq"],
            document.RootElement.GetProperty("data").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void RefusalAndPongAreTheOriginalsTexts()
    {
        Assert.Equal("{\n  \"data\": null,\n  \"status\": \"failed\",\n  \"message\": \"user is not exist!\",\n  \"success\": false\n}", XAgentFrames.Refused("user is not exist!"));
        Assert.Equal("{\n  \"type\": \"pong\"\n}", XAgentFrames.Pong);
    }

    [Fact]
    public void ACharacterOutsideTheBasicPlaneIsWrittenAsAnEscapedSurrogatePair() =>
        Assert.Contains("\"\\uD83D\\uDE00\"", XAgentFrames.Refused("😀"), StringComparison.Ordinal);
}
