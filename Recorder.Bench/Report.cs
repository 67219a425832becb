using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Recorder.Bench;

/// <summary>A markdown table.</summary>
internal sealed class MarkdownTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public MarkdownTable Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"expected {headers.Length} cells, got {cells.Length}", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", headers).AppendLine(" |");
        text.Append('|').AppendJoin("|", headers.Select(_ => " --- ")).AppendLine("|");
        foreach (var row in _rows)
        {
            text.Append("| ").AppendJoin(" | ", row.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))).AppendLine(" |");
        }

        return text.ToString();
    }
}

/// <summary>What a scenario prints: the command line, the machine, then its tables and notes, as markdown.</summary>
internal sealed class Report(string scenario, IReadOnlyList<string> args)
{
    private readonly StringBuilder _body = new();

    public string? PostgresVersion { get; set; }

    public Report Heading(string text)
    {
        _body.AppendLine().Append("### ").AppendLine(text).AppendLine();
        return this;
    }

    public Report Table(MarkdownTable table)
    {
        _body.Append(table).AppendLine();
        return this;
    }

    public Report Line(string text = "")
    {
        _body.AppendLine(text);
        return this;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("## ").AppendLine(scenario).AppendLine();
        text.AppendLine("```");
        text.Append("dotnet run -c Release --project Recorder.Bench --");
        foreach (var arg in args)
        {
            text.Append(' ').Append(arg.Contains(' ', StringComparison.Ordinal) ? $"\"{arg}\"" : arg);
        }

        text.AppendLine().AppendLine("```").AppendLine();
        text.Append("- date: ").AppendLine(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
        text.Append("- machine: ").Append(Environment.ProcessorCount).Append(" cores, ")
            .Append(RuntimeInformation.OSDescription).Append(", ").Append(RuntimeInformation.FrameworkDescription)
            .Append(", server GC ").Append(System.Runtime.GCSettings.IsServerGC ? "on" : "off")
            .Append(", PostgreSQL ").AppendLine(PostgresVersion ?? "?");
        text.Append("- source: commit ").AppendLine(BenchEnvironment.SourceRevision() is { Length: >= 12 } sha ? sha[..12] : "unknown");
        text.Append(_body);
        return text.ToString();
    }
}
