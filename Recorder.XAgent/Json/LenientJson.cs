using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Recorder.XAgent.Json;

/// <summary>
/// Parses the JSON an LLM writes as function-call arguments, as leniently as XAgent's <c>json5.loads</c> and a bit
/// more: JSON5 (single-quoted strings, unquoted keys, comments, trailing commas, hex, <c>+1</c>, <c>.5</c>,
/// <c>Infinity</c>/<c>NaN</c> read as null), Python's <c>True</c>/<c>False</c>/<c>None</c>, raw line breaks inside
/// strings, missing commas between members, and prose or code fences around the value.
/// </summary>
internal static class LenientJson
{
    private static readonly JsonDocumentOptions Relaxed = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = JsonDepth.MaxDepth };

    /// <summary>The longest hexadecimal number (JSON5's <c>0x...</c>) accepted: far more than any 128-bit value.</summary>
    public const int MaxHexDigits = 64;

    public static bool TryParse(string text, out JsonNode? value, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            value = JsonNode.Parse(text, documentOptions: Relaxed);
            error = null;
            return true;
        }
        catch (JsonException)
        {
            // not plain JSON: read it as JSON5 below
        }

        if (Json5Reader.TryRead(text, out value, out error))
        {
            return true;
        }

        // Tolerant last resort: the outermost {...} or [...] inside surrounding text.
        var start = text.IndexOfAny(['{', '[']);
        var end = text.LastIndexOfAny(['}', ']']);
        if (start >= 0 && end > start && (start > 0 || end < text.Length - 1) &&
            Json5Reader.TryRead(text[start..(end + 1)], out value, out _))
        {
            error = null;
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>Parses <paramref name="text"/> or throws <see cref="FormatException"/> saying where it fails.</summary>
    public static JsonNode? Parse(string text) => TryParse(text, out var value, out var error) ? value : throw new FormatException(error);

    private sealed class Json5Reader(string text)
    {
        private const int MaxDepth = JsonDepth.MaxDepth;
        private int _pos;
        private int _depth;

        public static bool TryRead(string text, out JsonNode? value, out string? error)
        {
            var reader = new Json5Reader(text);
            try
            {
                value = reader.ReadValue();
                reader.SkipTrivia();
                if (reader._pos < text.Length)
                {
                    throw reader.Fail($"unexpected '{text[reader._pos]}' after the value");
                }

                error = null;
                return true;
            }
            catch (FormatException e)
            {
                value = null;
                error = e.Message;
                return false;
            }
        }

        private bool AtEnd => _pos >= text.Length;

        private char Peek => text[_pos];

        private JsonNode? ReadValue()
        {
            SkipTrivia();
            if (AtEnd)
            {
                throw Fail("unexpected end of text");
            }

            return Peek switch
            {
                '{' => Nested(ReadObject),
                '[' => Nested(ReadArray),
                '"' or '\'' => JsonValue.Create(ReadString()),
                _ when char.IsAsciiDigit(Peek) || Peek is '-' or '+' or '.' => ReadNumber(),
                _ => ReadWord(),
            };
        }

        private JsonNode Nested(Func<JsonNode> read)
        {
            if (++_depth > MaxDepth)
            {
                throw Fail($"nested deeper than {MaxDepth} levels");
            }

            var node = read();
            _depth--;
            return node;
        }

        private JsonObject ReadObject()
        {
            _pos++;
            var obj = new JsonObject();
            while (true)
            {
                SkipTrivia();
                if (AtEnd)
                {
                    throw Fail("unterminated object");
                }

                if (Peek == '}')
                {
                    _pos++;
                    return obj;
                }

                var key = Peek is '"' or '\'' ? ReadString() : ReadIdentifier();
                if (key.Length == 0)
                {
                    throw Fail($"unexpected '{Peek}' where a key was expected");
                }

                SkipTrivia();
                if (AtEnd || Peek != ':')
                {
                    throw Fail($"':' expected after key \"{key}\"");
                }

                _pos++;
                obj[key] = ReadValue();
                SkipSeparator('}');
            }
        }

        private JsonArray ReadArray()
        {
            _pos++;
            var array = new JsonArray();
            while (true)
            {
                SkipTrivia();
                if (AtEnd)
                {
                    throw Fail("unterminated array");
                }

                if (Peek == ']')
                {
                    _pos++;
                    return array;
                }

                array.Add(ReadValue());
                SkipSeparator(']');
            }
        }

        /// <summary>After a member: a comma, the closer, or (tolerated) nothing before the next member.</summary>
        private void SkipSeparator(char closer)
        {
            SkipTrivia();
            if (!AtEnd && Peek == ',')
            {
                _pos++;
            }
            else if (!AtEnd && Peek != closer && Peek is ':' or '}' or ']')
            {
                throw Fail($"unexpected '{Peek}'");
            }
        }

        private string ReadString()
        {
            var quote = text[_pos++];
            var sb = new StringBuilder();
            while (true)
            {
                if (AtEnd)
                {
                    throw Fail("unterminated string");
                }

                var c = text[_pos++];
                if (c == quote)
                {
                    return sb.ToString();
                }

                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }

                if (AtEnd)
                {
                    throw Fail("unterminated string");
                }

                var e = text[_pos++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'v': sb.Append('\v'); break;
                    case '0' when AtEnd || !char.IsAsciiDigit(Peek): sb.Append('\0'); break;
                    case 'x': sb.Append((char)ReadHex(2)); break;
                    case 'u': sb.Append((char)ReadHex(4)); break;
                    case '\r':
                        if (!AtEnd && Peek == '\n')
                        {
                            _pos++;
                        }

                        break;
                    case '\n' or '\u2028' or '\u2029': break;
                    default: sb.Append(e); break;
                }
            }
        }

        private int ReadHex(int digits)
        {
            if (_pos + digits > text.Length ||
                !int.TryParse(text.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
            {
                throw Fail("bad escape sequence");
            }

            _pos += digits;
            return value;
        }

        private JsonNode? ReadNumber()
        {
            var start = _pos;
            var negative = Peek == '-';
            if (Peek is '-' or '+')
            {
                _pos++;
            }

            foreach (var special in (ReadOnlySpan<string>)["Infinity", "NaN"])
            {
                if (text.AsSpan(_pos).StartsWith(special, StringComparison.Ordinal))
                {
                    _pos += special.Length;
                    return null; // not representable in JSON
                }
            }

            if (text.AsSpan(_pos).StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                _pos += 2;
                var hexStart = _pos;
                while (!AtEnd && char.IsAsciiHexDigit(Peek))
                {
                    _pos++;
                }

                if (_pos == hexStart)
                {
                    throw Fail("bad hexadecimal number");
                }

                if (_pos - hexStart > MaxHexDigits)
                {
                    // Converting a long one to decimal takes time quadratic in its length.
                    throw Fail($"hexadecimal number longer than {MaxHexDigits} digits");
                }

                var hex = BigInteger.Parse("0" + text[hexStart.._pos], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                return JsonNode.Parse((negative ? -hex : hex).ToString(CultureInfo.InvariantCulture));
            }

            var integer = Digits();
            var fraction = "";
            if (!AtEnd && Peek == '.')
            {
                _pos++;
                fraction = Digits();
            }

            if (integer.Length == 0 && fraction.Length == 0)
            {
                _pos = start;
                throw Fail("bad number");
            }

            var exponent = "";
            if (!AtEnd && Peek is 'e' or 'E')
            {
                var at = _pos++;
                var sign = !AtEnd && Peek is '+' or '-' ? text[_pos++].ToString() : "";
                var digits = Digits();
                if (digits.Length == 0)
                {
                    _pos = at;
                    throw Fail("bad exponent");
                }

                exponent = "e" + sign + digits;
            }

            var trimmed = integer.TrimStart('0');
            var json = (negative ? "-" : "") + (trimmed.Length == 0 ? "0" : trimmed) + (fraction.Length > 0 ? "." + fraction : "") + exponent;
            return JsonNode.Parse(json);
        }

        private string Digits()
        {
            var start = _pos;
            while (!AtEnd && char.IsAsciiDigit(Peek))
            {
                _pos++;
            }

            return text[start.._pos];
        }

        private JsonNode? ReadWord()
        {
            var start = _pos;
            var word = ReadIdentifier();
            switch (word)
            {
                case "true" or "True": return JsonValue.Create(true);
                case "false" or "False": return JsonValue.Create(false);
                case "null" or "None" or "undefined" or "Infinity" or "NaN": return null;
                default:
                    _pos = start;
                    throw Fail(word.Length == 0 ? $"unexpected '{Peek}'" : $"unexpected word '{word}'");
            }
        }

        private string ReadIdentifier()
        {
            var start = _pos;
            while (!AtEnd && (char.IsLetterOrDigit(Peek) || Peek is '_' or '$'))
            {
                _pos++;
            }

            return text[start.._pos];
        }

        private void SkipTrivia()
        {
            while (!AtEnd)
            {
                if (char.IsWhiteSpace(Peek) || Peek == '\uFEFF')
                {
                    _pos++;
                }
                else if (text.AsSpan(_pos).StartsWith("//", StringComparison.Ordinal))
                {
                    var end = text.IndexOf('\n', _pos);
                    _pos = end < 0 ? text.Length : end + 1;
                }
                else if (text.AsSpan(_pos).StartsWith("/*", StringComparison.Ordinal))
                {
                    var end = text.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
                    if (end < 0)
                    {
                        throw Fail("unterminated comment");
                    }

                    _pos = end + 2;
                }
                else
                {
                    return;
                }
            }
        }

        private FormatException Fail(string message) => new($"{message} at position {_pos}");
    }
}
