using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace WsGen.Tests.Server;

/// <summary>A Start that fails (the port is taken, the loop is unknown) throws a clear exception and leaves the server
/// as it was: nothing holds the port, Dispose works, and Start may be called again.</summary>
public sealed class ServerStartTests
{
    public static TheoryData<string> Reactors => TestServers.Loops;

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task Start_on_a_taken_port_throws_and_works_once_the_port_is_free(string reactor)
    {
        var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var endPoint = (IPEndPoint)taken.LocalEndPoint!;
        using var server = new WebSocketServer(TestServers.OptionsFor(reactor, endPoint));
        server.Map("*", new Echo.EchoEndpoint());

        var error = Assert.Throws<SocketException>(() => server.Start());
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        Assert.Equal(0, server.LoopCount);

        taken.Dispose();
        Assert.Equal(endPoint.Port, server.Start().Port);
        using var client = await EchoInteropTests.ConnectAsync(server);
        byte[] echoed = await EchoInteropTests.EchoAsync(client, "after a failed start"u8.ToArray(), WebSocketMessageType.Text);
        Assert.Equal("after a failed start", Encoding.UTF8.GetString(echoed));
    }

    [Fact]
    public void An_unknown_loop_throws_on_Start_and_Dispose_still_works()
    {
        var server = new WebSocketServer(new WebSocketServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Loop = (WebSocketLoop)42,
        });
        server.Map("*", new Echo.EchoEndpoint());

        var error = Assert.ThrowsAny<ArgumentException>(() => server.Start());
        Assert.Contains("42", error.Message);
        Assert.Equal(0, server.LoopCount);
        server.Dispose();
        server.Dispose();
    }

    [Fact]
    public void A_failing_second_loop_releases_the_first_loops_port()
    {
        // Two loops share the port through SO_REUSEPORT; the first listens, then the second cannot be made.
        int made = 0;
        var endPoint = new IPEndPoint(IPAddress.Loopback, FreePort());
        using var server = new WebSocketServer(new WebSocketServerOptions
        {
            EndPoint = endPoint,
            Loops = 2,
            CreateReactor = (handler, options) => ++made == 2
                ? throw new InvalidOperationException("the second loop cannot be made")
                : new EpollReactor(handler, options),
        });
        server.Map("*", new Echo.EchoEndpoint());

        Assert.Throws<InvalidOperationException>(() => server.Start());

        // Nothing listens on the port any more: a plain listener without SO_REUSEPORT may take it.
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(endPoint);
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
