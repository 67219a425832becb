using System.Net;
using System.Net.Sockets;

namespace Recorder.Tests.Infrastructure;

/// <summary>Free ports on 127.0.0.1 for the servers a test starts.</summary>
public static class LoopbackPort
{
    /// <summary>A port the OS picks (in the ephemeral range), for a server that keeps it for its whole life.</summary>
    public static int Any()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A free port in 20000-32000: below Linux's ephemeral range (32768-60999), and above the usual services. For a
    /// server the test restarts: while it is down, no client's outgoing connection can take its port.
    /// </summary>
    public static int BelowEphemeral()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(20_000, 32_000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // taken: try another
            }
        }

        throw new InvalidOperationException("no free port in 20000-32000");
    }

    /// <summary>Whether something accepts connections on the port.</summary>
    public static bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
