using System.Text.Json.Nodes;
using Recorder.XAgent.Json;

namespace Recorder.Tests.XAgent;

public sealed class LenientJsonTests
{
    [Theory]
    [InlineData("""{"a": 1, "b": [true, null]}""", """{"a":1,"b":[true,null]}""")]
    [InlineData("{'a': \"it's\", \"b\": 'say \"hi\"'}", """{"a":"it's","b":"say \"hi\""}""")]
    [InlineData("{a: 'x', b_2: \"y\", $c: 1,}", """{"a":"x","b_2":"y","$c":1}""")]
    [InlineData("// comment\n{/* inline */ a: [1, 2, 3,], }", """{"a":[1,2,3]}""")]
    [InlineData("{a: +1, b: .5, c: 5., d: 0x1F, e: -0x10, f: 1e3, g: 007}", """{"a":1,"b":0.5,"c":5,"d":31,"e":-16,"f":1e3,"g":7}""")]
    [InlineData("{a: Infinity, b: -Infinity, c: NaN}", """{"a":null,"b":null,"c":null}""")]
    [InlineData("{'a': True, 'b': False, 'c': None}", """{"a":true,"b":false,"c":null}""")]
    [InlineData("{'s': 'line\\nnext \\'q\\' \\x41 \\u4e2d \\\\'}", """{"s":"line\nnext 'q' A 中 \\"}""")]
    [InlineData("{\"s\": \"raw\nbreak\"}", """{"s":"raw\nbreak"}""")]
    [InlineData("{\"a\": 1 \"b\": 2}", """{"a":1,"b":2}""")]
    [InlineData("Here is the call:\n```json\n{\"a\": 1}\n```", """{"a":1}""")]
    [InlineData("{\"名字\": '中文'}", """{"名字":"中文"}""")]
    public void ParsesWhatXAgentsJson5Accepts(string text, string? expected)
    {
        Assert.True(LenientJson.TryParse(text, out var value, out var error), error);
        if (expected is not null)
        {
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), value), value?.ToJsonString());
        }
    }

    [Theory]
    [InlineData("{subtasks: [")]
    [InlineData("{'a': 'unterminated}")]
    [InlineData("{a 1}")]
    [InlineData("")]
    [InlineData("just words")]
    public void RefusesWhatCannotBeRead(string text)
    {
        Assert.False(LenientJson.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
        Assert.Throws<FormatException>(() => LenientJson.Parse(text));
    }

    [Fact]
    public void DeepNestingIsRefusedNotOverflowed()
    {
        Assert.False(LenientJson.TryParse(new string('[', 100_000), out _, out _));
    }

    [Fact]
    public void AHexadecimalNumberLongerThanTheLimitIsRefusedAtOnceAndOneAtTheLimitIsRead()
    {
        Assert.True(LenientJson.TryParse("{ n: 0x" + new string('f', LenientJson.MaxHexDigits) + " }", out var value, out var error), error);
        Assert.Equal(System.Numerics.BigInteger.Pow(2, 4 * LenientJson.MaxHexDigits) - 1,
            System.Numerics.BigInteger.Parse(value!["n"]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture));

        Assert.False(LenientJson.TryParse("{ n: 0x" + new string('f', 1_000_000) + " }", out _, out error));
        Assert.Contains($"hexadecimal number longer than {LenientJson.MaxHexDigits} digits", error, StringComparison.Ordinal);
    }
}
