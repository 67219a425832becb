namespace Recorder.XAgent.Disk;

/// <summary>Numeric ordering of record numbers (<c>00012</c>) and dotted subtask ids (<c>1.2</c> before <c>1.10</c>, <c>1.2</c> before <c>1.2.1</c>).</summary>
internal static class SubtaskIdOrder
{
    public static IComparer<string> SubtaskIds { get; } = Comparer<string>.Create(CompareSubtaskIds);

    public static IComparer<string> Numbers { get; } = Comparer<string>.Create(CompareNumbers);

    /// <summary>True for ids like <c>1</c>, <c>1.2</c>, <c>1.10.3</c>.</summary>
    public static bool IsSubtaskId(string text) =>
        text.Length > 0 && text.Split('.').All(part => part.Length > 0 && part.All(char.IsAsciiDigit));

    private static int CompareSubtaskIds(string? x, string? y)
    {
        var a = (x ?? "").Split('.');
        var b = (y ?? "").Split('.');
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            var c = CompareNumbers(a[i], b[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return a.Length.CompareTo(b.Length);
    }

    /// <summary>Compares digit strings by value, whatever their length (leading zeros ignored), then by text.</summary>
    private static int CompareNumbers(string? x, string? y)
    {
        var a = (x ?? "").TrimStart('0');
        var b = (y ?? "").TrimStart('0');
        var c = a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
        return c != 0 ? c : string.CompareOrdinal(x, y);
    }
}
