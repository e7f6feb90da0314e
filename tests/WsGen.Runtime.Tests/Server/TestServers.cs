using System.Net;
using Echo;

namespace WsGen.Tests.Server;

/// <summary>Starts WsGen servers on a free loopback port for a test, with the reactor the test names.</summary>
internal static class TestServers
{
    /// <summary>The generated path: the echo sample's <c>[WebSocketEndpoint]</c> served by its generated WsGenApp.</summary>
    public const string Generated = "generated";

    /// <summary>Every way the echo endpoint is served here: wired by hand on each loop WsGen runs on Linux, and through
    /// the code the generator emitted (with the loop it chose). Every integration test runs on each.</summary>
    public static TheoryData<string> Reactors => [.. Names, Generated];

    /// <summary>The loops alone, for tests that wire their own server or need endpoint settings the attribute fixes.</summary>
    public static TheoryData<string> Loops => [.. Names];

    /// <summary>The fake loop of the tests (<see cref="FakeReactor"/>), over real sockets: the same connection core
    /// as every loop, driven by a backend that polls.</summary>
    public const string Fake = "fake";

    /// <summary>Every loop WsGen runs on Linux (io_uring joins when the kernel supports it), and the fake one.</summary>
    public static string[] Names => IoUringReactor.IsSupported ? ["epoll", "sockets", "io_uring", Fake] : ["epoll", "sockets", Fake];

    /// <summary>Starts the echo endpoint on a free port. <paramref name="endpoint"/> settings apply to the hand-wired
    /// path only (the generated one takes its sizes from the attribute).</summary>
    public static WebSocketServer StartEcho(string reactor, Action<WebSocketServerOptions>? configure = null, WebSocketEndpointOptions? endpoint = null)
    {
        bool generated = reactor == Generated;
        var options = generated
            ? new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) }
            : OptionsFor(reactor, new IPEndPoint(IPAddress.Loopback, 0));
        configure?.Invoke(options);
        WebSocketServer server;
        if (generated)
        {
            Assert.Null(endpoint);
            server = WsGenApp.CreateServer(options);
        }
        else
        {
            server = new WebSocketServer(options);
            server.Map("*", new EchoEndpoint(), endpoint ?? new WebSocketEndpointOptions { MaxMessageSize = 64 * 1024 * 1024 });
        }
        server.Start();
        return server;
    }

    /// <summary>Server options on <paramref name="endPoint"/> with the loop a test's name selects.</summary>
    public static WebSocketServerOptions OptionsFor(string name, IPEndPoint endPoint) => name == Fake
        ? new WebSocketServerOptions { EndPoint = endPoint, CreateReactor = static (handler, options) => new FakeReactor(handler, options) }
        : new WebSocketServerOptions { EndPoint = endPoint, Loop = LoopOf(name) };

    /// <summary>The loop a test's name selects ("epoll", "sockets", "io_uring").</summary>
    public static WebSocketLoop LoopOf(string name) =>
        ReactorFactory.TryParse(name, out var loop) ? loop : throw new ArgumentException($"No loop is named '{name}'.", nameof(name));

    public static Uri Url(this WebSocketServer server, string path = "/") => new($"ws://{server.LocalEndPoint}{path}");
}
