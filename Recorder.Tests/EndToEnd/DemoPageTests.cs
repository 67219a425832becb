using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PuppeteerSharp;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;
using Recorder.XAgent.Disk;
using Recorder.XAgent.Replay;
using Xunit.Abstractions;

namespace Recorder.Tests.EndToEnd;

/// <summary>
/// A paced hub (a run of the multi-subtask fixture takes about five seconds) that serves the demo page from the copy
/// of Recorder.Hub/wwwroot next to the test assembly, bundle included.
/// </summary>
public sealed class DemoPageHubServer : PacedHubServer
{
    public static string WebRoot => Path.Combine(AppContext.BaseDirectory, "wwwroot");

    public override TimeSpan Gap => TimeSpan.FromMilliseconds(300);

    public override TimeSpan DisconnectGrace => TimeSpan.FromSeconds(10);

    protected override IEnumerable<KeyValuePair<string, string>> Settings => [.. base.Settings, new("webroot", WebRoot)];
}

/// <summary>
/// The demo page (Recorder.Hub/wwwroot with the bundled clients/js client) in headless Chromium against the real hub:
/// what a person sees, asserted on the DOM.
/// </summary>
public sealed partial class DemoPageTests(DemoPageHubServer server, ITestOutputHelper output) : IClassFixture<DemoPageHubServer>
{
    private static readonly int WaitMs = (int)TestEnvironment.Timeout.TotalMilliseconds;

    [Fact]
    public async Task TheDemoPageShowsEveryStepOfAMultiSubtaskRunOnceInOrderWithItsPictureAcrossAForcedReconnect()
    {
        var bundle = Path.Combine(DemoPageHubServer.WebRoot, "dist", "recorder-client.js");
        Assert.True(File.Exists(bundle), $"{bundle} is missing: Recorder.Hub's build makes it (npm ci + npm run build in clients/js)");

        var (user, token) = await server.NewUserAsync();
        var folder = Path.Combine(server.RecordingsRoot, "multi_subtask");
        var steps = XAgentReplayMapper.Map(await XAgentDiskReader.ReadAsync(folder, CancellationToken.None).WaitAsync(TestEnvironment.Timeout));
        List<string> expectedStatuses = [RecorderStatus.Running, .. steps.Select(s => s.Status), RecorderStatus.Finished];
        // seq 1 is `running`, so step i is seq i + 2.
        var expectedTools = steps.Select((s, i) => (Seq: i + 2L, Tool: (s.Data as JsonObject)?["using_tools"]?["tool_name"]?.GetValue<string>()))
            .Where(s => s.Tool is not null).ToList();
        var pictureSeqs = steps.Select((s, i) => (s, Seq: i + 2L)).Where(x => x.s.IncludePictures).Select(x => x.Seq).ToList();
        Assert.NotEmpty(pictureSeqs);

        await using var proxy = new TcpProxy(server.BaseUrl);
        var origin = $"http://127.0.0.1:{proxy.Port}";
        await using var browser = await Chromium.LaunchAsync();
        await using var page = await browser.NewPageAsync();
        var log = Watch(page, origin);
        var screenshot = Path.Combine(AppContext.BaseDirectory, "artifacts", "demo-page.png");
        try
        {
            await page.SetViewportAsync(new ViewPortOptions { Width = 1366, Height = 900 }).WaitAsync(TestEnvironment.Timeout);
            await page.GoToAsync(origin + "/", WaitMs, [WaitUntilNavigation.Load]).WaitAsync(TestEnvironment.Timeout);
            await FillAndConnectAsync(page, user, token, PacedHubServer.Recording);
            var interactionId = await ClientIdAsync(page);
            Assert.Matches("^[0-9a-f]{32}$", interactionId);

            await page.ClickAsync("#start").WaitAsync(TestEnvironment.Timeout);
            await WaitForAsync(page, "document.querySelectorAll('#timeline li.entry').length >= 3", "three entries on the timeline");

            // The forced reconnect, mid-run: every TCP connection through the proxy is cut (RST), the WebSocket too.
            await Replays.AssertRunningMidWayAsync(server, interactionId, expectedStatuses.Count);
            var shownAtDrop = await SeqsAsync(page);
            proxy.DropConnections();

            await WaitForAsync(page, "document.getElementById('run-state').textContent === 'finished'", "the run finished on the page");
            var events = await EventsAsync(page);
            Assert.Contains(events, e => e.Contains("connection lost", StringComparison.Ordinal));
            var resumedAfter = events.Select(e => ResumedAfter().Match(e)).Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value)).ToList();
            // The first Resume is after seq 0 (the connect), the second after what the page had when the socket was cut
            // (at least what it showed just before; a raw may have been in flight), mid-run; no third one.
            Assert.Equal(2, resumedAfter.Count);
            Assert.Equal(0, resumedAfter[0]);
            Assert.InRange(shownAtDrop.Max(), 3, expectedStatuses.Count - 2);
            Assert.InRange(resumedAfter[1], shownAtDrop.Max(), expectedStatuses.Count - 1);

            // Every seq once, in order, with the statuses and tools of the recording.
            var seqs = await SeqsAsync(page);
            Assert.Equal(Enumerable.Range(1, expectedStatuses.Count).Select(i => (long)i), seqs);
            var statuses = await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#timeline li.entry')].map(li => li.dataset.status)").WaitAsync(TestEnvironment.Timeout);
            Assert.Equal(expectedStatuses, statuses);
            foreach (var (seq, tool) in expectedTools)
            {
                var shown = await page.EvaluateFunctionAsync<string>(
                    "seq => document.querySelector(`#timeline li.entry[data-seq='${seq}'] .tool-name`)?.textContent ?? ''", seq).WaitAsync(TestEnvironment.Timeout);
                Assert.Equal(tool, shown);
            }

            await AssertPicturesAsync(page, pictureSeqs, Path.Combine(folder, "workspace"));
            await AssertChineseUsesACjkFontAsync(page);
            Assert.True(log.Outside.IsEmpty, "requests that left the hub: " + string.Join(", ", log.Outside));
            Assert.True(log.Errors.IsEmpty, "errors on the page: " + string.Join(" | ", log.Errors));
        }
        finally
        {
            await SaveScreenshotAsync(page, screenshot, log);
        }
    }

    [Fact]
    public async Task DisconnectThenConnectWithTheSameClientIdContinuesTheTimelineWithoutARepeat()
    {
        var (user, token) = await server.NewUserAsync();
        var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));
        await using var browser = await Chromium.LaunchAsync();
        await using var page = await browser.NewPageAsync();
        var log = Watch(page, server.BaseUrl.GetLeftPart(UriPartial.Authority));
        try
        {
            var interactionId = await ConnectAndStartAsync(page, user, token);
            await WaitForAsync(page, "document.querySelectorAll('#timeline li.entry').length >= 3", "three entries on the timeline");

            await page.ClickAsync("#disconnect").WaitAsync(TestEnvironment.Timeout);
            await WaitForAsync(page, "document.getElementById('conn-state').textContent === 'Disconnected' && !document.getElementById('connect').disabled", "the page disconnected");
            var shown = await SeqsAsync(page);
            Assert.Equal(Enumerable.Range(1, shown.Length).Select(i => (long)i), shown);
            Assert.InRange(shown.Length, 3, expected.Count - 1); // the rest comes after the re-attach

            // Connect again: the client_id is kept, so this re-attaches and resumes after the last seq on the page.
            await page.ClickAsync("#connect").WaitAsync(TestEnvironment.Timeout);
            await WaitForAsync(page, "document.getElementById('run-state').textContent === 'finished'", "the run finished on the page");
            Assert.Equal(interactionId, await ClientIdAsync(page));
            Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), await SeqsAsync(page));
            var resumedAfter = (await EventsAsync(page)).Select(e => ResumedAfter().Match(e)).Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value));
            Assert.Equal([0L, shown[^1]], resumedAfter);
            Assert.True(log.Errors.IsEmpty, "errors on the page: " + string.Join(" | ", log.Errors));
        }
        finally
        {
            await SaveScreenshotAsync(page, Path.Combine(AppContext.BaseDirectory, "artifacts", "demo-page-reattached.png"), log);
        }
    }

    [Fact]
    public async Task ThePlaybackButtonsPauseChangeTheSpeedAndSkipToTheEnd()
    {
        var (user, token) = await server.NewUserAsync();
        var expected = await Replays.ExpectedStatusesAsync(Path.Combine(server.RecordingsRoot, "multi_subtask"));
        await using var browser = await Chromium.LaunchAsync();
        await using var page = await browser.NewPageAsync();
        var log = Watch(page, server.BaseUrl.GetLeftPart(UriPartial.Authority));
        try
        {
            var interactionId = await ConnectAndStartAsync(page, user, token);
            await WaitForAsync(page, "document.querySelectorAll('#timeline li.entry').length >= 2", "two entries on the timeline");

            await page.ClickAsync("#pause").WaitAsync(TestEnvironment.Timeout);
            await WaitForAsync(page, "document.getElementById('playback-state').dataset.paused === 'true'", "the page shows the pause");
            var lastSeq = await server.QueryScalarAsync<long>("SELECT last_seq FROM interactions WHERE interaction_id = @interactionId", new { interactionId });
            await Task.Delay(TimeSpan.FromSeconds(1)); // the span a paused run is observed for (steps are 300 ms apart)
            Assert.Equal(lastSeq, await server.QueryScalarAsync<long>("SELECT last_seq FROM interactions WHERE interaction_id = @interactionId", new { interactionId }));
            Assert.InRange((await SeqsAsync(page)).Length, 2, expected.Count - 2);

            await page.ClickAsync("#speed-2").WaitAsync(TestEnvironment.Timeout);
            await WaitForAsync(page, "document.getElementById('playback-state').dataset.speed === '2' && document.getElementById('playback-state').dataset.paused === 'true'", "the page shows speed 2, still paused");
            await page.ClickAsync("#skip-to-end").WaitAsync(TestEnvironment.Timeout);
            await WaitForAsync(page, "document.getElementById('run-state').textContent === 'finished'", "the run finished on the page");
            Assert.Equal("playing at max", await page.EvaluateExpressionAsync<string>("document.getElementById('playback-state').textContent").WaitAsync(TestEnvironment.Timeout));
            Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), await SeqsAsync(page));
            Assert.True(log.Errors.IsEmpty, "errors on the page: " + string.Join(" | ", log.Errors));
        }
        finally
        {
            await SaveScreenshotAsync(page, Path.Combine(AppContext.BaseDirectory, "artifacts", "demo-page-playback.png"), log);
        }
    }

    [Fact]
    public async Task TheDemoPageShowsTheRefusalTextOfAWrongToken()
    {
        var (user, _) = await server.NewUserAsync();
        await using var browser = await Chromium.LaunchAsync();
        await using var page = await browser.NewPageAsync();
        var log = Watch(page, server.BaseUrl.GetLeftPart(UriPartial.Authority));
        try
        {
            await page.GoToAsync(new Uri(server.BaseUrl, "/").ToString(), WaitMs, [WaitUntilNavigation.Load]).WaitAsync(TestEnvironment.Timeout);
            await page.EvaluateFunctionAsync(
                "(u, d) => { document.getElementById('user-id').value = u; document.getElementById('token').value = 'not-the-token'; document.getElementById('recorder-dir').value = d; }",
                user, "multi_subtask").WaitAsync(TestEnvironment.Timeout);
            await page.ClickAsync("#connect").WaitAsync(TestEnvironment.Timeout);
            await WaitForAsync(page, "!document.getElementById('refusal').hidden", "the refusal");
            var message = await page.EvaluateExpressionAsync<string>("document.getElementById('refusal-message').textContent").WaitAsync(TestEnvironment.Timeout);
            Assert.Equal("user is not available!", message);
            await WaitForAsync(page, "document.getElementById('conn-state').textContent === 'Disconnected' && !document.getElementById('connect').disabled", "the page back to Disconnected");
            Assert.Equal(0, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#timeline li.entry').length").WaitAsync(TestEnvironment.Timeout));
            // The refusal is the one reason shown: not also a transport error of the connection it closed.
            var events = await EventsAsync(page);
            Assert.Contains(events, e => e.EndsWith("refused: user is not available!", StringComparison.Ordinal));
            Assert.DoesNotContain(events, e => e.Contains("failed", StringComparison.Ordinal));
        }
        finally
        {
            await SaveScreenshotAsync(page, Path.Combine(AppContext.BaseDirectory, "artifacts", "demo-page-refused.png"), log);
        }
    }

    /// <summary>Opens the page on the hub, connects as the user to the paced recording and starts it; returns the page's client_id.</summary>
    private async Task<string> ConnectAndStartAsync(IPage page, string user, string token)
    {
        await page.GoToAsync(new Uri(server.BaseUrl, "/").ToString(), WaitMs, [WaitUntilNavigation.Load]).WaitAsync(TestEnvironment.Timeout);
        await FillAndConnectAsync(page, user, token, PacedHubServer.Recording);
        var interactionId = await ClientIdAsync(page);
        await page.ClickAsync("#start").WaitAsync(TestEnvironment.Timeout);
        return interactionId;
    }

    private static Task<string> ClientIdAsync(IPage page) =>
        page.EvaluateExpressionAsync<string>("document.getElementById('client-id').value").WaitAsync(TestEnvironment.Timeout);

    private static async Task FillAndConnectAsync(IPage page, string user, string token, string recorderDir)
    {
        await page.EvaluateFunctionAsync(
            "(u, t, d) => { document.getElementById('user-id').value = u; document.getElementById('token').value = t; document.getElementById('recorder-dir').value = d; }",
            user, token, recorderDir).WaitAsync(TestEnvironment.Timeout);
        await page.ClickAsync("#connect").WaitAsync(TestEnvironment.Timeout);
        await WaitForAsync(page, "document.getElementById('conn-state').textContent === 'Connected' && !document.getElementById('start').disabled", "the page connected");
    }

    private static async Task<string[]> EventsAsync(IPage page) =>
        await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#events li')].map(li => li.textContent)").WaitAsync(TestEnvironment.Timeout);

    private static async Task<long[]> SeqsAsync(IPage page) =>
        await page.EvaluateExpressionAsync<long[]>("[...document.querySelectorAll('#timeline li.entry')].map(li => Number(li.dataset.seq))").WaitAsync(TestEnvironment.Timeout);

    private static async Task WaitForAsync(IPage page, string condition, string what)
    {
        try
        {
            await page.WaitForExpressionAsync(condition, new WaitForFunctionOptions { Timeout = WaitMs, PollingInterval = 50 }).WaitAsync(TestEnvironment.Timeout * 1.5);
        }
        catch (Exception e) when (e is WaitTaskTimeoutException or TimeoutException)
        {
            var events = await EventsAsync(page);
            Assert.Fail($"timed out waiting for {what} ({condition}); the page's events: {string.Join(" | ", events)}");
        }
    }

    /// <summary>Each step with pictures shows them as loaded images whose data is the workspace file's bytes; no other step has one.</summary>
    private static async Task AssertPicturesAsync(IPage page, IReadOnlyList<long> pictureSeqs, string workspace)
    {
        var withImages = await page.EvaluateExpressionAsync<long[]>(
            "[...document.querySelectorAll('#timeline li.entry')].filter(li => li.querySelector('.picture img')).map(li => Number(li.dataset.seq))").WaitAsync(TestEnvironment.Timeout);
        Assert.Equal(pictureSeqs, withImages);
        foreach (var seq in pictureSeqs)
        {
            var selector = $"#timeline li.entry[data-seq='{seq}'] .picture img";
            // The images load lazily: bring each into view, then it must decode.
            await page.EvaluateFunctionAsync("s => document.querySelector(s).scrollIntoView({ block: 'center' })", selector).WaitAsync(TestEnvironment.Timeout);
            await WaitForAsync(page, $"(i => i.complete && i.naturalWidth > 0)(document.querySelector(\"{selector}\"))", $"the picture of seq {seq} loaded");
            var image = await page.EvaluateFunctionAsync<ImageInfo>("s => { const i = document.querySelector(s); return { alt: i.alt, src: i.src }; }", selector)
                .WaitAsync(TestEnvironment.Timeout);
            Assert.Equal("data:image/png;base64," + Convert.ToBase64String(await File.ReadAllBytesAsync(Path.Combine(workspace, image.Alt))), image.Src);
        }
    }

    /// <summary>Chinese text of the run is drawn with a CJK font (not boxes): asked of Chromium's layout over CDP.</summary>
    private static async Task AssertChineseUsesACjkFontAsync(IPage page)
    {
        var probe = await page.EvaluateExpressionAsync<string>("""
            (() => {
              const walker = document.createTreeWalker(document.getElementById('timeline'), NodeFilter.SHOW_TEXT);
              for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                if (/[\u4e00-\u9fff]/.test(n.textContent) && n.parentElement.offsetParent !== null) {
                  n.parentElement.setAttribute('data-cjk-probe', '');
                  return n.textContent;
                }
              }
              return '';
            })()
            """).WaitAsync(TestEnvironment.Timeout);
        Assert.False(string.IsNullOrEmpty(probe), "no visible Chinese text on the timeline");

        var cdp = page.Client;
        await cdp.SendAsync("DOM.enable").WaitAsync(TestEnvironment.Timeout);
        await cdp.SendAsync("CSS.enable").WaitAsync(TestEnvironment.Timeout);
        var document = await cdp.SendAsync<JsonElement>("DOM.getDocument", new { depth = 0 }).WaitAsync(TestEnvironment.Timeout);
        var found = await cdp.SendAsync<JsonElement>("DOM.querySelector", new
        {
            nodeId = document.GetProperty("root").GetProperty("nodeId").GetInt32(),
            selector = "[data-cjk-probe]",
        }).WaitAsync(TestEnvironment.Timeout);
        var fonts = await cdp.SendAsync<JsonElement>("CSS.getPlatformFontsForNode", new { nodeId = found.GetProperty("nodeId").GetInt32() }).WaitAsync(TestEnvironment.Timeout);
        var families = fonts.GetProperty("fonts").EnumerateArray()
            .Select(f => $"{f.GetProperty("familyName").GetString()} ({f.GetProperty("glyphCount").GetInt32()} glyphs)").ToList();
        Assert.True(families.Any(f => f.Contains("CJK", StringComparison.Ordinal)),
            $"the Chinese text '{probe}' is drawn with {string.Join(", ", families)}: no CJK font (Debian: apt-get install fonts-noto-cjk)");
    }

    private async Task SaveScreenshotAsync(IPage page, string path, PageLog log)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // From the top: the sticky header would otherwise be drawn where the page was last scrolled to.
            await page.EvaluateExpressionAsync("window.scrollTo(0, 0)").WaitAsync(TestEnvironment.Timeout);
            await page.ScreenshotAsync(path, new ScreenshotOptions { FullPage = true }).WaitAsync(TestEnvironment.Timeout);
            output.WriteLine($"screenshot: {path}");
        }
        catch (Exception e) when (e is PuppeteerException or TimeoutException)
        {
            output.WriteLine($"no screenshot ({e.Message})");
        }

        foreach (var line in log.Console)
        {
            output.WriteLine(line);
        }
    }

    /// <summary>What the page logs and asks for: uncaught errors, console lines, and requests that leave <paramref name="origin"/>.</summary>
    private static PageLog Watch(IPage page, string origin)
    {
        var log = new PageLog();
        page.PageError += (_, e) => log.Errors.Enqueue(e.Message);
        page.Console += (_, e) => log.Console.Enqueue($"console {e.Message.Type}: {e.Message.Text}");
        page.Request += (_, e) =>
        {
            var url = e.Request.Url;
            if (!url.StartsWith(origin + "/", StringComparison.Ordinal) && !url.StartsWith("data:", StringComparison.Ordinal)
                && !url.StartsWith(origin.Replace("http:", "ws:", StringComparison.Ordinal) + "/", StringComparison.Ordinal))
            {
                log.Outside.Enqueue(url);
            }
        };
        return log;
    }

    [GeneratedRegex(@"resumed \S+ after seq (\d+)")]
    private static partial Regex ResumedAfter();

    private sealed class PageLog
    {
        public ConcurrentQueue<string> Errors { get; } = new();

        public ConcurrentQueue<string> Console { get; } = new();

        public ConcurrentQueue<string> Outside { get; } = new();
    }

    private sealed record ImageInfo(string Alt, string Src);
}
