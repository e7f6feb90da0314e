using System.Net;
using Echo;

namespace WsGen.Tests.Server;

/// <summary>Starts WsGen servers on a free loopback port for a test, with the reactor the test names.</summary>
internal static class TestServers
{
    /// <summary>Every loop WsGen runs on Linux: every integration test runs on each.</summary>
    public static TheoryData<string> Reactors => [.. Names];

    /// <summary>The names behind <see cref="Reactors"/>: io_uring joins when the kernel supports it.</summary>
    public static string[] Names => IoUringReactor.IsSupported ? ["epoll", "sockets", "io_uring"] : ["epoll", "sockets"];

    public static WebSocketServer StartEcho(string reactor, Action<WebSocketServerOptions>? configure = null, WebSocketEndpointOptions? endpoint = null)
    {
        var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Reactor = reactor };
        configure?.Invoke(options);
        var server = new WebSocketServer(options);
        server.Map("*", new EchoEndpoint(), endpoint ?? new WebSocketEndpointOptions { MaxMessageSize = 64 * 1024 * 1024 });
        server.Start();
        return server;
    }

    public static Uri Url(this WebSocketServer server, string path = "/") => new($"ws://{server.LocalEndPoint}{path}");
}
