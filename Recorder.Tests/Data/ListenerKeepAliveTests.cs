using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Recorder.Data;
using Recorder.Tests.Infrastructure;

namespace Recorder.Tests.Data;

/// <summary>
/// The notification listener waits on a connection of its own data source, and Npgsql's keepalive on it is what finds
/// that connection dead (no hand-written ping): a wait on a connection that stopped answering fails.
/// </summary>
public sealed class ListenerKeepAliveTests(DatabaseFixture fixture) : TimedTest, IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task TheListenersDataSourceHasNpgsqlsKeepaliveAndTheOtherOneKeepsItsSettings()
    {
        await using var app = UnstartedHub.Build();

        var listener = new NpgsqlConnectionStringBuilder(
            app.Services.GetRequiredKeyedService<NpgsqlDataSource>(RecorderDataExtensions.ListenerDataSource).ConnectionString);
        var shared = new NpgsqlConnectionStringBuilder(app.Services.GetRequiredService<NpgsqlDataSource>().ConnectionString);
        Assert.Equal(RecorderDataExtensions.ListenerKeepAlive, listener.KeepAlive);
        Assert.Equal(0, shared.KeepAlive);
        Assert.All([listener, shared], b =>
        {
            Assert.True(b.NoResetOnClose);
            Assert.Contains("idle_in_transaction_session_timeout=60000", b.Options, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task AWaitOnAConnectionThatStoppedAnsweringFailsWithTheKeepalive()
    {
        var postgres = new NpgsqlConnectionStringBuilder(fixture.Database.ConnectionString);
        await using var hole = new StallingProxy(new IPEndPoint(IPAddress.Loopback, postgres.Port));
        await using var dataSource = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(fixture.Database.ConnectionString) { Host = "127.0.0.1", Port = hole.Port, KeepAlive = 1, Pooling = false });
        await using var connection = await dataSource.OpenConnectionAsync(Ct);
        var wait = connection.WaitAsync(Ct);

        await Task.Delay(TimeSpan.FromSeconds(2.5), Ct); // two keepalives answered; not a wait for a condition
        Assert.False(wait.IsCompleted, $"the wait ended on a healthy connection: {wait.Exception?.GetBaseException().Message}");

        hole.Stall(); // the network stops carrying anything, nothing is closed
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => wait.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>A loopback proxy that can stop carrying bytes either way, leaving both connections open: a silent network.</summary>
    private sealed class StallingProxy : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<TcpClient> _sockets = [];
        private readonly Task _accepting;
        private volatile bool _stalled;

        public StallingProxy(IPEndPoint target)
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _accepting = AcceptAsync(target);
        }

        public int Port { get; }

        public void Stall() => _stalled = true;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            lock (_sockets)
            {
                _sockets.ForEach(s => s.Dispose());
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync(IPEndPoint target)
        {
            try
            {
                while (true)
                {
                    var inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
                    var outbound = new TcpClient();
                    await outbound.ConnectAsync(target, _stop.Token);
                    lock (_sockets)
                    {
                        _sockets.Add(inbound);
                        _sockets.Add(outbound);
                    }

                    _ = PumpAsync(inbound.GetStream(), outbound.GetStream());
                    _ = PumpAsync(outbound.GetStream(), inbound.GetStream());
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                // disposed
            }
        }

        private async Task PumpAsync(NetworkStream from, NetworkStream to)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var read = await from.ReadAsync(buffer, _stop.Token);
                    if (read == 0 || _stalled)
                    {
                        return; // stalled: the bytes are dropped and nothing more is read, but the sockets stay open
                    }

                    await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                }
            }
            catch (Exception exception) when (exception is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // disposed, or a side closed
            }
        }
    }
}
