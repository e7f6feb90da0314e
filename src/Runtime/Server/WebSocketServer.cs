using System.Net;
using WsGen.Protocol;
using WsGen.Server;

namespace WsGen;

/// <summary>
/// A WebSocket server: listens, upgrades, routes by path to endpoints and dispatches their messages.
/// </summary>
/// <example>
/// <code>
/// using var server = new WebSocketServer(new() { EndPoint = new(IPAddress.Loopback, 9001) });
/// server.Map("/echo", new EchoEndpoint());
/// server.Run(cancellationToken);
/// </code>
/// </example>
public sealed class WebSocketServer : IDisposable
{
    private readonly WebSocketServerOptions _options;
    private readonly List<EndpointRoute> _routes = [];
    private readonly List<IWebSocketEndpoint> _handwired = [];
    private Func<Router, ServerLoop>? _createLoop;
    private IServerReactor? _reactor;
    private ServerLoop? _loop;
    private Thread? _thread;
    private CancellationTokenSource? _stop;

    public WebSocketServer(WebSocketServerOptions? options = null)
    {
        _options = options ?? new WebSocketServerOptions();
    }

    /// <summary>The address the server listens on once started (the real port when 0 was asked for).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Connections held right now, handshakes included.</summary>
    public int ConnectionCount => _loop?.ConnectionCount ?? 0;

    /// <summary>The name of the loop in use ("epoll", "sockets"), once started.</summary>
    public string? ReactorName { get; private set; }

    /// <summary>Serves <paramref name="endpoint"/> at <paramref name="path"/> (exact match; "*" takes every path
    /// no other endpoint takes). Call before the server starts.</summary>
    public WebSocketServer Map(string path, IWebSocketEndpoint endpoint, WebSocketEndpointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(endpoint);
        if (_createLoop is not null && _handwired.Count == 0)
            throw new InvalidOperationException("This server runs a dispatcher already; Map and UseDispatcher do not mix.");
        AddRoute(new EndpointRoute(path, options ?? new WebSocketEndpointOptions()));
        _handwired.Add(endpoint);
        _createLoop = router => new ServerLoop<InterfaceDispatcher>(_options, router, new InterfaceDispatcher([.. _handwired]), Environment.TickCount64);
        return this;
    }

    /// <summary>Serves the endpoints of <paramref name="dispatcher"/> (what the <c>[WebSocketEndpoint]</c> generator
    /// emits): endpoint i of the dispatcher is served at <c>routes[i]</c>. Call once, before the server starts.</summary>
    public WebSocketServer UseDispatcher<TDispatcher>(TDispatcher dispatcher, IReadOnlyList<EndpointRoute> routes)
        where TDispatcher : struct, IEndpointDispatcher
    {
        ArgumentNullException.ThrowIfNull(routes);
        if (_createLoop is not null)
            throw new InvalidOperationException("This server has its endpoints already; Map and UseDispatcher do not mix.");
        foreach (var route in routes)
            AddRoute(route);
        _createLoop = router => new ServerLoop<TDispatcher>(_options, router, dispatcher, Environment.TickCount64);
        return this;
    }

    private void AddRoute(EndpointRoute route)
    {
        ArgumentNullException.ThrowIfNull(route.Path);
        ArgumentNullException.ThrowIfNull(route.Options);
        if (_loop is not null)
            throw new InvalidOperationException("Map endpoints before the server starts.");
        if (route.Path != "*" && !route.Path.StartsWith('/'))
            throw new ArgumentException("A path starts with '/' (or is \"*\" for every path).", nameof(route));
        foreach (var r in _routes)
            if (r.Path == route.Path)
                throw new ArgumentException($"The path {route.Path} is mapped already.", nameof(route));
        _routes.Add(route);
    }

    /// <summary>Binds and starts the loop on a thread of its own; returns the bound address.</summary>
    public IPEndPoint Start()
    {
        var endPoint = Bind();
        _stop = new CancellationTokenSource();
        var reactor = _reactor!;
        var token = _stop.Token;
        _thread = new Thread(() => reactor.Run(token)) { Name = "WsGen loop", IsBackground = true };
        _thread.Start();
        return endPoint;
    }

    /// <summary>Binds and runs the loop on the calling thread until <paramref name="cancellationToken"/> is cancelled;
    /// then closes every connection with 1001 and returns once they are gone (or the drain timeout passed).</summary>
    public void Run(CancellationToken cancellationToken)
    {
        Bind();
        _reactor!.Run(cancellationToken);
    }

    /// <summary>Stops a server started with <see cref="Start"/>: closes every connection with 1001, then the loop.</summary>
    public void Stop()
    {
        if (_stop is null || _thread is null)
            return;
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
        _stop = null;
        _thread = null;
    }

    public void Dispose()
    {
        Stop();
        _reactor?.Dispose();
        _reactor = null;
    }

    internal static HandshakeLimits Limits(WebSocketServerOptions options) =>
        new() { MaxHeaderBytes = options.MaxHandshakeBytes, MaxHeaderCount = options.MaxHeaderCount };

    private IPEndPoint Bind()
    {
        if (_loop is not null)
            throw new InvalidOperationException("The server was started already.");
        if (_createLoop is null)
            throw new InvalidOperationException("Map at least one endpoint before starting the server.");
        var limits = Limits(_options);
        _loop = _createLoop(new Router(_routes.Select((route, i) => new Endpoint(i, route, limits))));
        _reactor = _options.CreateReactor is { } create ? create(_loop, _options.ReactorOptions) : _options.Reactor switch
        {
            null or "" => ReactorFactory.Create(_loop, _options.ReactorOptions),
            "epoll" => new EpollReactor(_loop, _options.ReactorOptions),
            "io_uring" or "iouring" => new IoUringReactor(_loop, _options.ReactorOptions),
            "sockets" => new SocketReactor(_loop, _options.ReactorOptions),
            var other => throw new ArgumentException($"Unknown reactor '{other}': use \"io_uring\", \"epoll\" or \"sockets\"."),
        };
        ReactorName = _reactor.GetType().Name.Replace("Reactor", "").ToLowerInvariant();
        _loop.Attach(_reactor);
        LocalEndPoint = _reactor.Listen(_options.EndPoint);
        return LocalEndPoint;
    }
}
