using System.Net;
using System.Net.Sockets;
using WsGen.Native;
using WsGen.Tests.Reactor;
using WsGen.Transport;

namespace WsGen.Tests.Transport;

public sealed class SocketTransportTests
{
    [Fact]
    public void Listener_on_port_0_reports_the_real_port_and_accepts_with_TCP_NODELAY()
    {
        using var listener = new SocketListener(new IPEndPoint(IPAddress.Loopback, 0));
        Assert.NotEqual(0, listener.LocalEndPoint.Port);
        Assert.Equal(IPAddress.Loopback, listener.LocalEndPoint.Address);
        Assert.False(listener.TryAccept(out _, out _));

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint);
        int fd = -1;
        Assert.True(SocketTestExtensions.WaitUntil(() => listener.TryAccept(out fd, out _)));
        try
        {
            Assert.Equal(0, Libc.GetIntOption(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, out int noDelay));
            Assert.NotEqual(0, noDelay);
            Assert.Equal(listener.LocalEndPoint, SocketListener.GetLocalEndPoint(fd));
        }
        finally
        {
            Libc.close(fd);
        }
    }

    [Fact]
    public void Listener_binds_IPv6_loopback()
    {
        if (!Socket.OSSupportsIPv6)
            return;
        using var listener = new SocketListener(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        Assert.Equal(IPAddress.IPv6Loopback, listener.LocalEndPoint.Address);
        using var client = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint);
        int fd = -1;
        Assert.True(SocketTestExtensions.WaitUntil(() => listener.TryAccept(out fd, out _)));
        new SocketConn(fd).Close();
    }

    [Fact]
    public void Binding_a_port_in_use_throws_AddressAlreadyInUse()
    {
        using var first = new SocketListener(new IPEndPoint(IPAddress.Loopback, 0));
        var e = Assert.Throws<SocketException>(() => new SocketListener(first.LocalEndPoint));
        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
    }

    [Fact]
    public void SocketConn_reads_writes_and_sees_end_of_stream()
    {
        using var listener = new SocketListener(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 };
        client.Connect(listener.LocalEndPoint);
        int fd = -1;
        Assert.True(SocketTestExtensions.WaitUntil(() => listener.TryAccept(out fd, out _)));
        var conn = new SocketConn(fd);
        var buffer = new byte[64];

        Assert.Equal(NetConn.WouldBlock, conn.Read(buffer));

        Assert.Equal(5, conn.Write("hello"u8));
        Assert.Equal("hello"u8.ToArray(), client.ReceiveExactly(5));

        client.SendAll("world"u8);
        int n = 0;
        Assert.True(SocketTestExtensions.WaitUntil(() => (n = conn.Read(buffer)) != NetConn.WouldBlock));
        Assert.Equal("world"u8.ToArray(), buffer[..n]);

        client.Shutdown(SocketShutdown.Send);
        Assert.True(SocketTestExtensions.WaitUntil(() => conn.Read(buffer) == 0));

        conn.Close();
        conn.Close();
        Assert.Equal(-1, conn.Fd);
        Assert.Throws<ObjectDisposedException>(() => conn.Read(buffer));
    }

    [Fact]
    public void SocketConn_write_returns_0_when_full_and_throws_when_the_peer_is_gone()
    {
        using var listener = new SocketListener(new IPEndPoint(IPAddress.Loopback, 0));
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024 };
        client.Connect(listener.LocalEndPoint);
        int fd = -1;
        Assert.True(SocketTestExtensions.WaitUntil(() => listener.TryAccept(out fd, out _)));
        var conn = new SocketConn(fd);
        var chunk = new byte[64 * 1024];

        long total = 0;
        int n;
        while ((n = conn.Write(chunk)) > 0)
            total += n;
        Assert.Equal(0, n);
        Assert.True(total > 0);

        // An abortive close (RST) of the peer.
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        Assert.True(SocketTestExtensions.WaitUntil(() =>
        {
            try
            {
                conn.Write(chunk);
                return false;
            }
            catch (IOException e)
            {
                return e.InnerException is SocketException;
            }
        }));
        conn.Close();
    }

    [Fact]
    public void SockAddr_round_trips_both_families()
    {
        foreach (var endPoint in new[]
        {
            new IPEndPoint(IPAddress.Parse("10.1.2.3"), 8080),
            new IPEndPoint(IPAddress.Parse("fe80::1%3"), 443),
            new IPEndPoint(IPAddress.IPv6Any, 0),
        })
        {
            int length = SockAddr.FromEndPoint(endPoint, out SockAddr address);
            Assert.Equal(endPoint.AddressFamily == AddressFamily.InterNetwork ? 16 : 28, length);
            Assert.Equal(endPoint, SockAddr.ToEndPoint(address));
        }
    }

    [Fact]
    public void Sockaddr_in_has_the_kernel_layout()
    {
        SockAddr.FromEndPoint(new IPEndPoint(IPAddress.Parse("127.0.0.1"), 0x1234), out SockAddr address);
        ReadOnlySpan<byte> bytes = address;
        Assert.Equal(new byte[] { 2, 0, 0x12, 0x34, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, bytes[..16].ToArray());
    }

    [Fact]
    public void Errno_maps_to_socket_errors_and_IO_exceptions()
    {
        Assert.Equal(SocketError.ConnectionReset, Errno.ToSocketError(Errno.ECONNRESET));
        Assert.Equal(SocketError.WouldBlock, Errno.ToSocketError(Errno.EAGAIN));
        IOException e = Errno.IOException("send", Errno.EPIPE);
        Assert.Equal(Errno.EPIPE, e.HResult);
        Assert.Contains("send", e.Message);
        Assert.Equal(SocketError.Shutdown, Assert.IsType<SocketException>(e.InnerException).SocketErrorCode);
    }
}
