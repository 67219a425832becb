using System.Net;
using Recorder.Client.Contracts;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.EndToEnd;

/// <summary>A hub behind a trusted proxy at 127.0.0.1 with a per-address connect limit of 2 a minute.</summary>
public sealed class ProxiedHubServer : HubServer
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Recorder:Proxy:KnownProxies:0", "127.0.0.1"),
        new("Recorder:Auth:ConnectsPerAddressPerMinute", "2"),
    ];
}

public sealed class ForwardedHeadersTests(ProxiedHubServer server) : IClassFixture<ProxiedHubServer>
{
    [Fact]
    public async Task ThePerAddressLimitCountsTheForwardedClientAddressOfATrustedProxy()
    {
        using var http = new HttpClient { Timeout = TestEnvironment.Timeout };

        async Task<HttpStatusCode> NegotiateAsync(string forwardedFor)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post,
                new Uri(server.BaseUrl, TestQuery.Url("hubs/recorder/negotiate?negotiateVersion=1", $"u{Guid.NewGuid():N}", "x", (RecorderProtocol.RecorderDirKey, "demo"))));
            request.Headers.Add("X-Forwarded-For", forwardedFor);
            using var response = await http.SendAsync(request).WaitAsync(TestEnvironment.Timeout);
            return response.StatusCode;
        }

        // Five clients behind the proxy, one request each: none is over the limit of 2 per address.
        for (var i = 1; i <= 5; i++)
        {
            Assert.NotEqual(HttpStatusCode.TooManyRequests, await NegotiateAsync($"10.1.0.{i}"));
        }

        // One client address three times: the third is refused, while the proxy's own address was never counted.
        Assert.NotEqual(HttpStatusCode.TooManyRequests, await NegotiateAsync("10.2.0.1"));
        Assert.NotEqual(HttpStatusCode.TooManyRequests, await NegotiateAsync("10.2.0.1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await NegotiateAsync("10.2.0.1"));
    }
}
