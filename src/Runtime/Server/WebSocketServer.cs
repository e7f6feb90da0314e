using System.ComponentModel;
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
    private readonly Dictionary<string, StaticPage> _pages = new(StringComparer.Ordinal);
    private Func<Router, ConnectionBudget, ServerTelemetry, ServerLoop>? _createLoop;
    private ServerTelemetry? _telemetry;
    private ServerLoop[]? _loops;
    private TopicRegistry? _topics;
    private IServerReactor[]? _reactors;
    private Thread[]? _threads;
    private CancellationTokenSource? _stop;
    private GeneratedTarget _target;
    private AddressLimits? _addressLimits;

    public WebSocketServer(WebSocketServerOptions? options = null)
    {
        _options = options ?? new WebSocketServerOptions();
    }

    /// <summary>The address the server listens on once started (the real port when 0 was asked for).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>The address the server serves TLS on once started (<see cref="LocalEndPoint"/> itself when
    /// <see cref="WebSocketServerOptions.TlsEndPoint"/> is null), or null without
    /// <see cref="WebSocketServerOptions.Tls"/>.</summary>
    public IPEndPoint? TlsLocalEndPoint { get; private set; }

    /// <summary>Connections held right now over all loops, handshakes included.</summary>
    public int ConnectionCount
    {
        get
        {
            int count = 0;
            foreach (var loop in _loops ?? [])
                count += loop.ConnectionCount;
            return count;
        }
    }

    /// <summary>Handshakes waiting for an asynchronous upgrade hook, over all loops (for tests and diagnostics).</summary>
    internal int PendingUpgrades => (_loops ?? []).Sum(l => l.PendingUpgrades);

    /// <summary>Connections held by each loop (for tests and diagnostics).</summary>
    /// <summary>Client addresses the per-address limits track now (0 when they are off): for the tests' leak checks.</summary>
    internal int AddressLimitEntries => _addressLimits?.Count ?? 0;

    internal int[] ConnectionsPerLoop => [.. (_loops ?? []).Select(l => l.ConnectionCount)];

    /// <summary>The number of loops serving, once started (see <see cref="WebSocketServerOptions.Loops"/>).</summary>
    public int LoopCount => _loops?.Length ?? 0;

    /// <summary>The name of the loop in use ("io_uring", "epoll", "kqueue", "iocp" or "sockets"), once started.</summary>
    public string? ReactorName { get; private set; }

    /// <summary>
    /// Sends a message to every connection subscribed to <paramref name="topic"/> (see
    /// <see cref="WebSocketConnection.Subscribe"/>), on every loop; callable from any thread. Each loop with subscribers
    /// gets the message once and writes the same frame to each of them (with permessage-deflate: compressed once per
    /// loop for <see cref="WebSocketCompression.Shared"/> subscribers, uncompressed to
    /// <see cref="WebSocketCompression.Dedicated"/> ones), gathered so that each subscriber gets what a loop turn
    /// published to it with one send; a subscriber with more bytes waiting than its
    /// endpoint's <see cref="WebSocketEndpointOptions.PublishLimit"/> gets its <see cref="SlowSubscriberPolicy"/>.
    /// Messages from one thread arrive in the order they were published, and in order with that thread's
    /// <see cref="WebSocketConnection.Send"/> calls. With a <see cref="WebSocketServerOptions.Backplane"/> the message
    /// also goes to the other nodes (see <see cref="WebSocketBackplane"/> for what they are guaranteed). Returns false
    /// when the topic has no subscriber on this server (or the server has not started).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="opcode"/> is neither Text nor Binary, or a Text payload is
    /// not valid UTF-8.</exception>
    public bool Publish(string topic, ReadOnlySpan<byte> payload, WebSocketOpcode opcode = WebSocketOpcode.Binary) =>
        _topics?.Publish(topic, payload, opcode, skip: null) ?? false;

    /// <summary>Subscriptions to <paramref name="topic"/> over every loop (subscribes still on their way to a loop
    /// included).</summary>
    public int SubscriberCount(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        return _topics?.SubscriberCount(topic) ?? 0;
    }

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
        _createLoop = (router, budget, telemetry) => new ServerLoop<InterfaceDispatcher>(_options, router, new InterfaceDispatcher([.. _handwired]), Environment.TickCount64, budget, telemetry);
        return this;
    }

    /// <summary>Serves the endpoints of <paramref name="dispatcher"/> (what the <c>[WebSocketEndpoint]</c> generator
    /// emits): endpoint i of the dispatcher is served at <c>routes[i]</c>; <paramref name="target"/> is the OS the
    /// application was built for, from which the runtime picks the loop when <see cref="WebSocketServerOptions.Loop"/>
    /// leaves it open. Call once, before the server starts.</summary>
    /// <remarks>For generated code; hidden from IntelliSense.</remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public WebSocketServer UseDispatcher<TDispatcher>(TDispatcher dispatcher, IReadOnlyList<EndpointRoute> routes, GeneratedTarget target)
        where TDispatcher : struct, IEndpointDispatcher
    {
        ArgumentNullException.ThrowIfNull(routes);
        if (_createLoop is not null)
            throw new InvalidOperationException("This server has its endpoints already; Map and UseDispatcher do not mix.");
        foreach (var route in routes)
            AddRoute(route);
        _target = target;
        _createLoop = (router, budget, telemetry) => new ServerLoop<TDispatcher>(_options, router, dispatcher, Environment.TickCount64, budget, telemetry);
        return this;
    }

    /// <summary>The settings of the endpoint mapped at <paramref name="path"/>, hand-wired or generated, to change before
    /// the server starts: how run-time settings (a command line, configuration) override an attribute's, for example
    /// <see cref="WebSocketEndpointOptions.Compression"/>.</summary>
    /// <exception cref="KeyNotFoundException">No endpoint is mapped at <paramref name="path"/>.</exception>
    public WebSocketEndpointOptions GetEndpointOptions(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (var r in _routes)
            if (r.Path == path)
                return r.Options;
        throw new KeyNotFoundException($"No endpoint is mapped at {path}.");
    }

    /// <summary>The paths of the mapped endpoints, in the order they were mapped (for the hosting package, which applies
    /// configuration to each).</summary>
    internal IEnumerable<string> EndpointPaths => _routes.Select(r => r.Path);

    /// <summary>Answers plain HTTP GET requests (no WebSocket upgrade) at <paramref name="path"/> with
    /// <paramref name="body"/>, for example the HTML page that opens a WebSocket to an endpoint. The response closes the
    /// connection. Call before the server starts.</summary>
    public WebSocketServer MapPage(string path, string contentType, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(contentType);
        if (_loops is not null)
            throw new InvalidOperationException("Map pages before the server starts.");
        if (!path.StartsWith('/'))
            throw new ArgumentException("A path starts with '/'.", nameof(path));
        _pages[path] = new StaticPage(contentType, body);
        return this;
    }

    private void AddRoute(EndpointRoute route)
    {
        ArgumentNullException.ThrowIfNull(route.Path);
        ArgumentNullException.ThrowIfNull(route.Options);
        if (_loops is not null)
            throw new InvalidOperationException("Map endpoints before the server starts.");
        if (route.Path != "*" && !route.Path.StartsWith('/'))
            throw new ArgumentException("A path starts with '/' (or is \"*\" for every path).", nameof(route));
        foreach (var r in _routes)
            if (r.Path == route.Path)
                throw new ArgumentException($"The path {route.Path} is mapped already.", nameof(route));
        _routes.Add(route);
    }

    /// <summary>Binds and starts the loops, each on a thread of its own; returns the bound address. When binding fails
    /// (a <see cref="System.Net.Sockets.SocketException"/> for a taken port, an <see cref="ArgumentException"/> for an
    /// unknown loop name in WSGEN_REACTOR, a <see cref="PlatformNotSupportedException"/> for a
    /// <see cref="WebSocketServerOptions.Loop"/> this platform lacks) nothing is left listening and the server may be started
    /// again.</summary>
    public IPEndPoint Start()
    {
        var endPoint = Bind();
        _stop = new CancellationTokenSource();
        StartThreads(first: 0, _stop.Token);
        return endPoint;
    }

    /// <summary>Binds and runs the first loop on the calling thread (the others on threads of their own) until
    /// <paramref name="cancellationToken"/> is cancelled; then closes every connection with 1001 and returns once
    /// they are gone (or the drain timeout passed).</summary>
    public void Run(CancellationToken cancellationToken)
    {
        Bind();
        StartThreads(first: 1, cancellationToken);
        RunLoop(0, cancellationToken);
        long stopping = Environment.TickCount64;
        foreach (var thread in _threads!)
            thread.Join();
        _options.Backplane?.Stop();
        ServerLog.Stopped(_telemetry!.Logger, Environment.TickCount64 - stopping);
    }

    /// <summary>Stops a server started with <see cref="Start"/>: closes every connection with 1001, then the loops.</summary>
    public void Stop()
    {
        if (_stop is null || _threads is null)
            return;
        long stopping = Environment.TickCount64;
        _stop.Cancel();
        foreach (var thread in _threads)
            thread.Join();
        _options.Backplane?.Stop();
        ServerLog.Stopped(_telemetry!.Logger, Environment.TickCount64 - stopping);
        _stop.Dispose();
        _stop = null;
        _threads = null;
    }

    public void Dispose()
    {
        Stop();
        foreach (var reactor in _reactors ?? [])
            reactor.Dispose();
        _reactors = null;
        _telemetry?.Dispose();
    }

    internal static HandshakeLimits Limits(WebSocketServerOptions options) =>
        new() { MaxHeaderBytes = options.MaxHandshakeBytes, MaxHeaderCount = options.MaxHeaderCount };

    private IPEndPoint Bind()
    {
        if (_loops is not null)
            throw new InvalidOperationException("The server was started already.");
        if (_createLoop is null)
            throw new InvalidOperationException("Map at least one endpoint before starting the server.");
        int count = _options.Loops;
        if (count < 1)
            throw new InvalidOperationException("WebSocketServerOptions.Loops must be at least 1.");

        // The loop is chosen once, before anything is made: an unknown name in WSGEN_REACTOR throws here.
        var kind = _options.CreateReactor is null ? ReactorFactory.Resolve(_options.Loop, _target) : WebSocketLoop.Default;
        var limits = Limits(_options);
        var router = new Router(_routes.Select((route, i) => new Endpoint(i, route, limits)), _pages);
        var budget = new ConnectionBudget(_options.MaxConnections, AddressLimits.Of(_options));
        _addressLimits = budget.PerAddress;
        var topology = count > 1 ? NumaTopology.Detect() : null;
        var pools = topology is null ? null : new NumaPoolManager<byte[]>(topology, _ => ArrayBytePool.CreateArrayPool(BackpressureBufferSize, 1024));
        var telemetry = new ServerTelemetry(_options.LoggerFactory, _options.MeterFactory);
        var loops = new ServerLoop[count];
        var reactors = new List<IServerReactor>(count);
        var endPoint = _options.EndPoint;
        var tls = _options.Tls?.CreateListener();
        Func<IReactorConn, Transport.IByteTransform>? secure = tls is null ? null : tls.Create;
        var tlsEndPoint = _options.TlsEndPoint;
        try
        {
            for (int i = 0; i < count; i++)
            {
                // Several loops listen on one port (SO_REUSEPORT: the kernel spreads connections), each with the
                // backpressure buffers of the CPU it is pinned to.
                var reactorOptions = count == 1 ? _options.EffectiveReactorOptions : _options.EffectiveReactorOptions with
                {
                    ReusePort = true,
                    BackpressurePool = new ArrayBytePool(pools!.PoolForCPU(CpuOf(i, topology!)), BackpressureBufferSize),
                };
                var loop = _createLoop(router, budget, telemetry);
                var reactor = _options.CreateReactor is { } create ? create(loop, reactorOptions) : ReactorFactory.Create(kind, loop, reactorOptions);
                reactors.Add(reactor);
                loop.Attach(reactor);
                loops[i] = loop;
                endPoint = reactor.Listen(endPoint, tlsEndPoint is null ? secure : null);
                if (secure is not null && tlsEndPoint is not null)
                    tlsEndPoint = reactor.Listen(tlsEndPoint, secure);
            }
        }
        catch
        {
            // The port is taken, or a loop could not be made: release what was made, so that the server is as before
            // Start (it may be started again) and nothing keeps the port.
            foreach (var reactor in reactors)
                reactor.Dispose();
            throw;
        }

        _loops = loops;
        _topics = new TopicRegistry(loops, _options.Backplane);
        _reactors = [.. reactors];
        ReactorName = ReactorFactory.NameOf(_reactors[0]);
        LocalEndPoint = endPoint;
        TlsLocalEndPoint = tls is null ? null : tlsEndPoint ?? endPoint;
        telemetry.Publish(endPoint, loops, _reactors, _options.Backplane);
        _options.Backplane?.Start(_topics);
        _telemetry = telemetry;
        ServerLog.Listening(telemetry.Logger, endPoint, ReactorName, count);
        return endPoint;
    }

    private const int BackpressureBufferSize = 16 * 1024;

    private static int CpuOf(int loop, NumaTopology topology) => topology.CpuIds[loop % topology.CpuCount];

    private void StartThreads(int first, CancellationToken token)
    {
        var threads = new List<Thread>();
        for (int i = first; i < _loops!.Length; i++)
        {
            int index = i;
            var thread = new Thread(() => RunLoop(index, token)) { Name = $"WsGen loop {i}", IsBackground = true };
            thread.Start();
            threads.Add(thread);
        }
        _threads = [.. threads];
    }

    private void RunLoop(int index, CancellationToken token)
    {
        if (_loops!.Length > 1 && OperatingSystem.IsLinux())
            WsGen.Native.Libc.PinCurrentThread(CpuOf(index, NumaTopology.Detect()));
        try
        {
            _reactors![index].Run(token);
        }
        catch (Exception e)
        {
            ServerLog.LoopFailed(_telemetry!.Logger, e, index);
            throw;
        }
    }
}
