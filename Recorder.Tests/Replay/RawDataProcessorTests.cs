using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recorder.Hub.Delivery;

namespace Recorder.Tests.Replay;

public sealed class RawDataProcessorTests
{
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];

    private static JsonNode NotebookData(JsonNode output) => new JsonObject
    {
        ["thoughts"] = "draw",
        ["using_tools"] = new JsonObject
        {
            ["tool_name"] = "PythonNotebook_execute_cell",
            ["tool_input"] = new JsonObject { ["code"] = "plt.savefig('plot.png')" },
            ["tool_output"] = output,
            ["tool_status_code"] = "TOOL_CALL_SUCCESS",
        },
    };

    private static JsonArray Outputs() => new(
        "cell_index: 0",
        new JsonObject { ["media_type"] = "image/png", ["file_name"] = "plot.png" },
        new JsonObject { ["media_type"] = "image/png", ["file_name"] = "gone.png" });

    [Fact]
    public void PicturesOfANotebookCallAreInlinedAndMissingOnesAreNull()
    {
        var data = NotebookData(Outputs());

        var processed = RawDataProcessor.Process(data, includePictures: true, new Dictionary<string, InlinePicture> { ["plot.png"] = InlinePicture.Of(Png) })!;

        var tools = processed["using_tools"]!;
        Assert.Equal(Convert.ToBase64String(Png), tools["tool_output"]![1]!["file_data"]!.GetValue<string>());
        Assert.True(tools["tool_output"]![2]!.AsObject().ContainsKey("file_data"));
        Assert.Null(tools["tool_output"]![2]!["file_data"]);
        Assert.True(tools["is_include_pictures"]!.GetValue<bool>());
        Assert.False(data["using_tools"]!.AsObject().ContainsKey("is_include_pictures")); // the input is not changed
    }

    [Fact]
    public void APictureLargerThanTheInlineLimitIsNotInlinedAndSaysWhy()
    {
        var data = NotebookData(Outputs());
        var pictures = new Dictionary<string, InlinePicture> { ["plot.png"] = InlinePicture.Of(Png, maxInlineBytes: Png.Length - 1) };

        var item = RawDataProcessor.Process(data, includePictures: true, pictures)!["using_tools"]!["tool_output"]![1]!.AsObject();

        Assert.True(item.ContainsKey("file_data"));
        Assert.Null(item["file_data"]);
        Assert.Equal($"the file is {Png.Length} bytes, more than the {Png.Length - 1} bytes a raw inlines", item["file_data_omitted"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(Png), RawDataProcessor.Process(data, true,
            new Dictionary<string, InlinePicture> { ["plot.png"] = InlinePicture.Of(Png, maxInlineBytes: Png.Length) })!["using_tools"]!["tool_output"]![1]!["file_data"]!.GetValue<string>());
    }

    [Fact]
    public void StoredDataIsProcessedLikeItsTreeAndDataWithoutToolsGoesOutAsItIs()
    {
        var pictures = new Dictionary<string, InlinePicture> { ["plot.png"] = InlinePicture.Of(Png) };
        var notebook = JsonSerializer.SerializeToElement(NotebookData(Outputs()));

        var processed = RawDataProcessor.Process(notebook, includePictures: true, pictures)!.Value;

        var expected = RawDataProcessor.Process(JsonNode.Parse(notebook.GetRawText()), includePictures: true, pictures)!;
        Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(processed.GetRawText())));
        Assert.Equal(Convert.ToBase64String(Png), processed.GetProperty("using_tools").GetProperty("tool_output")[1].GetProperty("file_data").GetString());
        Assert.Equal(["plot.png", "gone.png"], RawDataProcessor.PictureNames(notebook, includePictures: true));

        var plain = JsonSerializer.SerializeToElement(new { subtasks = new[] { "a", "b" }, text = "\\n stays" });
        Assert.Equal(plain.GetRawText(), RawDataProcessor.Process(plain, includePictures: true, pictures)!.Value.GetRawText());
        Assert.Empty(RawDataProcessor.PictureNames(plain, includePictures: true));
        Assert.Null(RawDataProcessor.Process((JsonElement?)null, includePictures: true, pictures));
    }

    [Fact]
    public void PicturesInAJsonStringOutputAreInlinedToo()
    {
        var data = NotebookData(Outputs().ToJsonString());

        var processed = RawDataProcessor.Process(data, includePictures: true, new Dictionary<string, InlinePicture> { ["plot.png"] = InlinePicture.Of(Png) })!;

        Assert.Equal(Convert.ToBase64String(Png), processed["using_tools"]!["tool_output"]![1]!["file_data"]!.GetValue<string>());
    }

    [Fact]
    public void PicturesAreLeftAloneWithoutIncludePictures()
    {
        var data = NotebookData(Outputs());

        var processed = RawDataProcessor.Process(data, includePictures: false, new Dictionary<string, InlinePicture> { ["plot.png"] = InlinePicture.Of(Png) });

        Assert.True(JsonNode.DeepEquals(data, processed));
        Assert.Empty(RawDataProcessor.PictureNames(data, includePictures: false));
    }

    [Fact]
    public void PictureNamesListsTheOutputFilesButNoPathThatLeavesTheWorkspace()
    {
        var outputs = Outputs();
        outputs.Add(new JsonObject { ["file_name"] = "../../etc/passwd" });
        outputs.Add(new JsonObject { ["file_name"] = "/etc/passwd" });
        outputs.Add(new JsonObject { ["file_name"] = "plot.png" });

        Assert.Equal(["plot.png", "gone.png"], RawDataProcessor.PictureNames(NotebookData(outputs), includePictures: true));
        Assert.Empty(RawDataProcessor.PictureNames(new JsonObject { ["using_tools"] = new JsonObject { ["tool_name"] = "other", ["tool_output"] = Outputs() } }, true));
        Assert.Empty(RawDataProcessor.PictureNames((JsonNode?)null, true));
    }

    [Fact]
    public void StringToolInputAndOutputAreUnescapedKeepingChineseIntact()
    {
        var data = new JsonObject
        {
            ["using_tools"] = new JsonObject
            {
                ["tool_name"] = "ShellCommandEnv_execute_command",
                ["tool_input"] = "echo \\\"销售\\\"",
                ["tool_output"] = "count 6\\n\\t备注: 单位为元 \\u6570\\u636e \\ud83d\\ude00",
            },
        };

        var processed = RawDataProcessor.Process(data, includePictures: true, new Dictionary<string, InlinePicture>())!;

        Assert.Equal("echo \"销售\"", processed["using_tools"]!["tool_input"]!.GetValue<string>());
        Assert.Equal("count 6\n\t备注: 单位为元 数据 😀", processed["using_tools"]!["tool_output"]!.GetValue<string>());
    }

    [Fact]
    public void ObjectToolInputIsKeptAndTheOutputStillUnescaped()
    {
        // The original stopped at the first non-string (tool_input.encode failed) and so never unescaped the output.
        var data = new JsonObject
        {
            ["using_tools"] = new JsonObject { ["tool_name"] = "x", ["tool_input"] = new JsonObject { ["a"] = "1\\n2" }, ["tool_output"] = "a\\nb" },
        };

        var processed = RawDataProcessor.Process(data, false, new Dictionary<string, InlinePicture>())!;

        Assert.Equal("1\\n2", processed["using_tools"]!["tool_input"]!["a"]!.GetValue<string>());
        Assert.Equal("a\nb", processed["using_tools"]!["tool_output"]!.GetValue<string>());
    }

    [Fact]
    public void AnErrorLeavesTheDataAsItIs()
    {
        var data = NotebookData(Outputs());
        data["using_tools"]!["tool_input"] = "a\\nb";

        var processed = RawDataProcessor.Process(data, includePictures: true, new ThrowingPictures());

        Assert.True(JsonNode.DeepEquals(data, processed));
        Assert.NotSame(data, processed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("\"just text \\\\n\"")]
    [InlineData("[1, 2]")]
    [InlineData("{\"using_tools\": \"not an object\"}")]
    public void DataWithoutToolsIsReturnedUnchanged(string? json)
    {
        var data = json is null ? null : JsonNode.Parse(json);

        var processed = RawDataProcessor.Process(data, includePictures: true, new Dictionary<string, InlinePicture>());

        Assert.True(JsonNode.DeepEquals(data, processed));
    }

    [Theory]
    [InlineData(@"a\nb\tc\rd", "a\nb\tc\rd")]
    [InlineData(@"q\\ \""x\"" \'y\'", "q\\ \"x\" 'y'")]
    [InlineData(@"\a\b\f\v", "\a\b\f\v")]
    [InlineData(@"\x41\x7a", "Az")]
    [InlineData(@"\101\0end\7", "A\0end\a")]
    [InlineData(@"\u4e2d\u6587 and 中文", "中文 and 中文")]
    [InlineData(@"\ud83d\ude00", "😀")]
    [InlineData(@"\U0001F600", "😀")]
    [InlineData("line\\\ncontinued", "linecontinued")]
    [InlineData(@"\ud83d alone", @"\ud83d alone")]
    [InlineData(@"\xZZ \u12 \U0011FFFF", @"\xZZ \u12 \U0011FFFF")]
    [InlineData(@"\d \N{BULLET} end\", @"\d \N{BULLET} end\")]
    [InlineData("no escapes, 中文 ✓", "no escapes, 中文 ✓")]
    public void UnescapeTurnsEscapeSequencesIntoCharacters(string text, string expected)
    {
        Assert.Equal(expected, RawDataProcessor.Unescape(text));
    }

    private sealed class ThrowingPictures : IReadOnlyDictionary<string, InlinePicture>
    {
        public InlinePicture this[string key] => throw new IOException("disk gone");

        public IEnumerable<string> Keys => throw new IOException("disk gone");

        public IEnumerable<InlinePicture> Values => throw new IOException("disk gone");

        public int Count => throw new IOException("disk gone");

        public bool ContainsKey(string key) => throw new IOException("disk gone");

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out InlinePicture value) => throw new IOException("disk gone");

        public IEnumerator<KeyValuePair<string, InlinePicture>> GetEnumerator() => throw new IOException("disk gone");

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
