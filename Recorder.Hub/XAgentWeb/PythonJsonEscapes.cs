using System.Text;

namespace Recorder.Hub.XAgentWeb;

/// <summary>
/// Turns the escapes of UTF-8 JSON written with <c>JavaScriptEncoder.UnsafeRelaxedJsonEscaping</c> into those of Python's
/// <c>json.dumps(..., ensure_ascii=False)</c>, which escapes only <c>"</c>, <c>\</c> and the characters below U+0020
/// (<c>\b \t \n \f \r</c>, else <c>\u00xx</c> in lower case) and writes everything else as it is. The relaxed encoder
/// also escapes characters outside the Basic Multilingual Plane (as a surrogate pair), U+2028/2029, DEL, U+0080..U+009F,
/// U+00A0, U+3000, U+FEFF, private-use and unassigned code points; each such <c>\uXXXX</c> becomes its UTF-8 bytes.
/// A surrogate escape that is not half of a valid pair stays escaped (Python could not send it at all; System.Text.Json
/// writes a lone surrogate of a .NET string as <c>\uFFFD</c>, so it does not arise from the writer).
/// </summary>
internal static class PythonJsonEscapes
{
    /// <summary>Whether <paramref name="json"/> may hold an escape to rewrite (a <c>\u</c>); when not, it is Python's text already.</summary>
    public static bool MayNeedRewrite(ReadOnlySpan<byte> json) => json.IndexOf("\\u"u8) >= 0;

    /// <summary>
    /// Writes <paramref name="json"/> with Python's escapes to <paramref name="destination"/> (at least as long as
    /// <paramref name="json"/>: the result is never longer) and returns the bytes written. The input must be the writer's
    /// output: every backslash starts an escape, <c>\\</c> is one (so the text <c>\\uD83D</c> is left alone).
    /// </summary>
    public static int Rewrite(ReadOnlySpan<byte> json, Span<byte> destination)
    {
        var read = 0;
        var written = 0;
        while (true)
        {
            var next = json[read..].IndexOf((byte)'\\');
            if (next < 0)
            {
                json[read..].CopyTo(destination[written..]);
                return written + json.Length - read;
            }

            json.Slice(read, next).CopyTo(destination[written..]);
            read += next;
            written += next;
            if (!TryUnicodeEscape(json[read..], out var unit))
            {
                // \" \\ \/ \b \f \n \r \t: two bytes, as Python writes them
                var length = Math.Min(2, json.Length - read);
                json.Slice(read, length).CopyTo(destination[written..]);
                read += length;
                written += length;
                continue;
            }

            if (char.IsHighSurrogate((char)unit) && TryUnicodeEscape(json[(read + 6)..], out var low) && char.IsLowSurrogate((char)low))
            {
                written += new Rune((char)unit, (char)low).EncodeToUtf8(destination[written..]);
                read += 12;
            }
            else if (char.IsSurrogate((char)unit))
            {
                json.Slice(read, 6).CopyTo(destination[written..]);
                written += 6;
                read += 6;
            }
            else
            {
                written += WritePython(unit, destination[written..]);
                read += 6;
            }
        }
    }

    /// <summary>The code unit of a <c>\uXXXX</c> at the start of <paramref name="json"/>.</summary>
    private static bool TryUnicodeEscape(ReadOnlySpan<byte> json, out int unit)
    {
        unit = 0;
        if (json.Length < 6 || json[0] != '\\' || json[1] != 'u')
        {
            return false;
        }

        foreach (var b in json.Slice(2, 4))
        {
            var digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            unit = (unit << 4) | digit;
        }

        return true;
    }

    /// <summary>One BMP character (not a surrogate) the way Python's json.dumps with ensure_ascii=False writes it.</summary>
    private static int WritePython(int unit, Span<byte> destination)
    {
        ReadOnlySpan<byte> shortForm = unit switch
        {
            '"' => "\\\""u8,
            '\\' => "\\\\"u8,
            '\b' => "\\b"u8,
            '\t' => "\\t"u8,
            '\n' => "\\n"u8,
            '\f' => "\\f"u8,
            '\r' => "\\r"u8,
            _ => default,
        };
        if (!shortForm.IsEmpty)
        {
            shortForm.CopyTo(destination);
            return shortForm.Length;
        }

        if (unit < 0x20)
        {
            "\\u00"u8.CopyTo(destination);
            destination[4] = LowerHex(unit >> 4);
            destination[5] = LowerHex(unit & 0xF);
            return 6;
        }

        return new Rune(unit).EncodeToUtf8(destination);
    }

    private static byte LowerHex(int digit) => (byte)(digit < 10 ? '0' + digit : 'a' + digit - 10);
}
