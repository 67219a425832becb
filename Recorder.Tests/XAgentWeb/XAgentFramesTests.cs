using System.Text;
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

    /// <summary>
    /// A raw's data as jsonb gives it back, in JSON text: escaped and raw emoji and plane-2 CJK (U+20000), the text
    /// <c>\uD83D</c> behind an escaped backslash, emoji behind one and two backslashes, line and paragraph separators,
    /// control characters, DEL and C1, quotes and backslashes, characters the relaxed encoder escapes (NBSP, ideographic
    /// space, BOM, private use, U+FFFF, an unassigned code point), empty containers, numbers.
    /// </summary>
    private const string DataJson = """
        {"thoughts": "测试 😀 𠀀 \ud83d\ude00 \ud840\udc00", "literal": "\\uD83D\\uDE00 \\\\uD83D \\\ud83d\ude00 \\\\\ud840\udc00", "lines": "a\u2028b\u2029c\u0085d", "controls": "\u0000\u0001\b\t\n\f\r\u001f\u007f\u0080\u009f", "quotes": "\"q\" \\ / <>&'+`", "spaces": "\u00a0\u3000\ufeff\ue000\uffff\u0378", "😀 key": [], "empty": {}, "n": [1, -2.5, 10]}
        """;

    /// <summary>
    /// The bytes (hex) of Python's frame for the same body, from
    /// <code>
    /// python3 -c 'import json,sys; body={"data": json.load(sys.stdin), "status": "inner", "message": "success 😀\u2028", "success": True, "current": "1.1", "node_id": "n1", "workspace_file_list": [{"name": "图 😀.png", "suffix": "png"}], "interaction_id": "i1", "seq": 7}; sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2).encode().hex())' &lt;data.json
    /// </code>
    /// with data.json holding <see cref="DataJson"/>'s text.
    /// </summary>
    private const string PythonFrameHex =
        "7b0a20202264617461223a207b0a202020202274686f7567687473223a2022e6b58be8af9520f09f988020f0a0808020f09f988020f0a08080222c0a"
        + "20202020226c69746572616c223a20225c5c75443833445c5c7544453030205c5c5c5c7544383344205c5cf09f9880205c5c5c5cf0a08080222c0a20"
        + "202020226c696e6573223a202261e280a862e280a963c28564222c0a2020202022636f6e74726f6c73223a20225c75303030305c75303030315c625c"
        + "745c6e5c665c725c75303031667fc280c29f222c0a202020202271756f746573223a20225c22715c22205c5c202f203c3e26272b60222c0a20202020"
        + "22737061636573223a2022c2a0e38080efbbbfee8080efbfbfcdb8222c0a2020202022f09f9880206b6579223a205b5d2c0a2020202022656d707479"
        + "223a207b7d2c0a20202020226e223a205b0a202020202020312c0a2020202020202d322e352c0a20202020202031300a202020205d0a20207d2c0a20"
        + "2022737461747573223a2022696e6e6572222c0a2020226d657373616765223a20227375636365737320f09f9880e280a8222c0a2020227375636365"
        + "7373223a20747275652c0a20202263757272656e74223a2022312e31222c0a2020226e6f64655f6964223a20226e31222c0a202022776f726b737061"
        + "63655f66696c655f6c697374223a205b0a202020207b0a202020202020226e616d65223a2022e59bbe20f09f98802e706e67222c0a20202020202022"
        + "737566666978223a2022706e67220a202020207d0a20205d2c0a202022696e746572616374696f6e5f6964223a20226931222c0a202022736571223a"
        + "20370a7d";

    [Fact]
    public void ARawFrameIsByteForBytePythonsJsonDumpsWithEnsureAsciiFalse()
    {
        using var data = JsonDocument.Parse(DataJson);
        var envelope = new RecorderEnvelope
        {
            Status = RecorderStatus.Inner,
            Success = true,
            Message = "success 😀\u2028",
            Data = data.RootElement,
            Current = "1.1",
            NodeId = "n1",
            WorkspaceFileList = [new WorkspaceFileEntry("图 😀.png", "png")],
            InteractionId = "i1",
            Seq = 7,
        };

        // Compared as text (xunit shows where it differs) and as bytes (the socket sends the UTF-8).
        var frame = XAgentFrames.Of(envelope);
        Assert.Equal(Encoding.UTF8.GetString(Convert.FromHexString(PythonFrameHex)), frame);
        Assert.Equal(PythonFrameHex, Convert.ToHexStringLower(Encoding.UTF8.GetBytes(frame)));
    }

    [Fact]
    public void EmojiAndPlaneTwoCjkAreWrittenAsTheyAreAndEscapedBackslashesAreLeftAlone() =>
        // python3 -c 'import json; print(json.dumps({"data": None, "status": "failed", "message": "😀 𠀀 测试 \"q\" \\ \\uD83D\\uDE00", "success": False}, ensure_ascii=False, indent=2))'
        Assert.Equal("""
            {
              "data": null,
              "status": "failed",
              "message": "😀 𠀀 测试 \"q\" \\ \\uD83D\\uDE00",
              "success": false
            }
            """.ReplaceLineEndings("\n"), XAgentFrames.Refused("😀 𠀀 测试 \"q\" \\ \\uD83D\\uDE00"));

    [Fact]
    public void ALoneSurrogateInAStringBecomesTheReplacementCharacterWrittenAsItIs()
    {
        // Python could not send it (UnicodeEncodeError when the text is encoded); System.Text.Json writes U+FFFD for it,
        // which goes out as its UTF-8 like any other character.
        Assert.Equal("{\n  \"type\": \"control_refused\",\n  \"message\": \"a\uFFFD b\uFFFD\"\n}", XAgentFrames.ControlRefused("a\uD83D b\uDE00"));
    }
}
