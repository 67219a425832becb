using System.Reflection;
using System.Text.RegularExpressions;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Deploy;

/// <summary>
/// The container files are not run here (no container engine): this checks, as text, that they stay consistent with
/// the tested local cluster: every Recorder__* key they set is a real option, and compose mounts the nginx template
/// that NginxClusterTests runs, and the Dockerfile restores with every project the hub is built from.
/// </summary>
public sealed partial class DeploymentConsistencyTests
{
    private static string DeployFolder => Path.GetDirectoryName(NginxProcess.ConfigFolder)!;

    public static TheoryData<string> Files => ["compose.yml", "k8s/recorder.yaml"];

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryRecorderKeyIsAnOptionProperty(string file)
    {
        var sections = typeof(Recorder.Hub.RecorderApp).Assembly.GetTypes()
            .Select(t => (Type: t, Field: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
            .Where(s => s.Field is { IsLiteral: true } && s.Type.Name.EndsWith("Options", StringComparison.Ordinal))
            .ToDictionary(s => (string)s.Field!.GetRawConstantValue()!, s => s.Type);
        var keys = RecorderKey().Matches(File.ReadAllText(Path.Combine(DeployFolder, file))).Select(m => m.Value).Distinct().ToList();
        Assert.NotEmpty(keys);
        foreach (var key in keys)
        {
            var parts = key.Split("__").Where(p => !p.All(char.IsAsciiDigit)).ToArray();
            var section = string.Join(':', parts[..^1]);
            Assert.True(sections.TryGetValue(section, out var type), $"{file}: {key}: no options class has Section \"{section}\"");
            Assert.True(type.GetProperty(parts[^1]) is not null, $"{file}: {key}: {type.Name} has no property {parts[^1]}");
        }
    }

    [Fact]
    public void ComposeUsesTheNginxTemplateTheClusterTestRuns()
    {
        var compose = File.ReadAllText(Path.Combine(DeployFolder, "compose.yml"));
        Assert.Contains("./nginx/recorder.conf.template:/etc/nginx/templates/recorder.conf.template", compose, StringComparison.Ordinal);
        var template = File.ReadAllText(Path.Combine(NginxProcess.ConfigFolder, "recorder.conf.template"));
        foreach (var variable in TemplateVariable().Matches(template).Select(m => m.Groups[1].Value).Distinct())
        {
            Assert.Contains($"{variable}:", compose, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheDockerfileCopiesEveryProjectTheHubBuildsFromBeforeItRestores()
    {
        var root = Path.GetDirectoryName(DeployFolder)!;
        var dockerfile = File.ReadAllText(Path.Combine(DeployFolder, "docker", "Dockerfile"));
        var restore = dockerfile.IndexOf("RUN dotnet restore", StringComparison.Ordinal);
        Assert.True(restore > 0, "the Dockerfile restores before it copies the sources");
        var copied = DockerCopy().Matches(dockerfile[..restore]).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

        var pending = new Stack<string>([Path.Combine(root, "Recorder.Hub", "Recorder.Hub.csproj")]);
        var projects = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryPop(out var project))
        {
            if (!projects.Add(Path.GetRelativePath(root, project).Replace('\\', '/')))
            {
                continue;
            }

            foreach (var reference in System.Xml.Linq.XDocument.Load(project).Descendants("ProjectReference"))
            {
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, reference.Attribute("Include")!.Value.Replace('\\', '/'))));
            }
        }

        Assert.Contains("Recorder.XAgent/Recorder.XAgent.csproj", projects);
        Assert.All(projects, project => Assert.True(copied.Contains(project), $"the Dockerfile does not copy {project} before `dotnet restore`"));
    }

    [GeneratedRegex(@"^COPY (\S+\.csproj) ", RegexOptions.Multiline)]
    private static partial Regex DockerCopy();

    [GeneratedRegex(@"\bRecorder__[A-Za-z0-9_]+")]
    private static partial Regex RecorderKey();

    [GeneratedRegex(@"\$\{(RECORDER_[A-Z0-9_]+)\}")]
    private static partial Regex TemplateVariable();
}
