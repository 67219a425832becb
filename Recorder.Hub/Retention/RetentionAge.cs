using System.Globalization;
using System.Text.RegularExpressions;

namespace Recorder.Hub.Retention;

/// <summary>An age as an operator writes it: <c>30d</c>, <c>12h</c>, <c>90m</c> (<c>interactions prune --older-than</c>, <c>Recorder:Retention:MaxAge</c>).</summary>
public static partial class RetentionAge
{
    public const string Format = "a whole number of days, hours or minutes such as 30d, 12h or 90m";

    /// <summary>The longest age accepted (about 100 years): past it the cutoff would leave the calendar.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(36_500);

    [GeneratedRegex("^([0-9]{1,9})([dhm])$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong, naming the text.</summary>
    public static bool TryParse(string? text, out TimeSpan age, out string? error)
    {
        age = TimeSpan.Zero;
        var match = Pattern().Match(text ?? "");
        if (!match.Success)
        {
            error = $"'{text}' is not an age: expected {Format}.";
            return false;
        }

        var count = long.Parse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture);
        var minutes = match.Groups[2].Value switch
        {
            "d" => count * 24 * 60,
            "h" => count * 60,
            _ => count,
        };
        if (minutes == 0 || minutes > Longest.TotalMinutes)
        {
            error = $"'{text}' is out of range: the age must be more than 0 and at most {Longest.TotalDays:0}d.";
            return false;
        }

        age = TimeSpan.FromMinutes(minutes);
        error = null;
        return true;
    }
}
