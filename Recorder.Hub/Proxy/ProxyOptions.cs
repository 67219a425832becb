using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Recorder.Hub.Proxy;

/// <summary>
/// <c>Recorder:Proxy</c>: the reverse proxies (nginx, an ingress) whose <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> are believed, so that the per-address limits of <c>Recorder:Auth</c> count the real client
/// address. Empty (the default): the headers are ignored and every client behind a proxy has the proxy's address.
/// </summary>
public sealed class ProxyOptions : IValidatableObject
{
    public const string Section = "Recorder:Proxy";

    /// <summary>Addresses of trusted proxies, e.g. <c>127.0.0.1</c>.</summary>
    public IList<string> KnownProxies { get; } = [];

    /// <summary>Networks of trusted proxies in CIDR notation, e.g. <c>10.0.0.0/8</c> (a cluster's pod network).</summary>
    public IList<string> KnownNetworks { get; } = [];

    public bool Enabled => KnownProxies.Count > 0 || KnownNetworks.Count > 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var proxy in KnownProxies.Where(p => !IPAddress.TryParse(p, out _)))
        {
            yield return new ValidationResult($"Recorder:Proxy:KnownProxies: '{proxy}' is not an IP address.");
        }

        foreach (var network in KnownNetworks.Where(n => !IPNetwork.TryParse(n, out _)))
        {
            yield return new ValidationResult($"Recorder:Proxy:KnownNetworks: '{network}' is not a network in CIDR notation (e.g. 10.0.0.0/8).");
        }
    }
}
