using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Recorder.Tests.Infrastructure;

/// <summary>A loopback TCP proxy in front of the hub, so that a test can cut every live connection at once.</summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<TcpClient, byte> _sockets = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public TcpProxy(Uri target)
        : this(new IPEndPoint(IPAddress.Parse(target.Host), target.Port))
    {
    }

    public TcpProxy(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public int Drops { get; private set; }

    /// <summary>While paused, new connections are closed at once, like a server that is down.</summary>
    public bool Paused { get; private set; }

    /// <summary>Cuts every connection and refuses new ones until <see cref="Unpause"/>.</summary>
    public void Pause()
    {
        Paused = true;
        DropConnections();
    }

    public void Unpause() => Paused = false;

    /// <summary>Closes every connection through the proxy (new ones are accepted again).</summary>
    public void DropConnections()
    {
        Drops++;
        foreach (var socket in _sockets.Keys)
        {
            try
            {
                socket.Client?.LingerState = new LingerOption(true, 0); // RST, like a dead network
            }
            catch (ObjectDisposedException)
            {
                // its pump closed it meanwhile
            }

            socket.Dispose();
            _sockets.TryRemove(socket, out _);
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            if (Paused)
            {
                inbound.Client.LingerState = new LingerOption(true, 0);
                inbound.Dispose();
                continue;
            }

            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(_target, _stop.Token);
            }
            catch (SocketException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }

            _sockets[inbound] = 0;
            _sockets[outbound] = 0;
            _ = PumpAsync(inbound, outbound);
            _ = PumpAsync(outbound, inbound);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), _stop.Token);
        }
        catch (Exception)
        {
            // a side closed
        }
        finally
        {
            from.Dispose();
            to.Dispose();
            _sockets.TryRemove(from, out _);
            _sockets.TryRemove(to, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        DropConnections();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
