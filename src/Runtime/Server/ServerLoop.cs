using WsGen.Protocol;
using WsGen.Reactor;

namespace WsGen.Server;

/// <summary>
/// The WebSocket layer of one loop: takes bytes from the reactor, upgrades connections, routes them to
/// endpoints, and watches handshake, idle and close timeouts. Everything here runs on the loop thread.
/// The message path lives in <see cref="ServerLoop{TDispatcher}"/>, generic over the endpoints' dispatcher.
/// </summary>
internal abstract partial class ServerLoop : IConnectionHandler
{
    private static readonly Action<object?> RunWork = static work => ((ILoopWork)work!).Run();

    private readonly WebSocketServerOptions _options;
    private readonly Router _router;
    private readonly HandshakeLimits _limits;
    private readonly ConnectionBudget _budget;
    private IEventLoop? _eventLoop;
    private readonly ConnectionTable<WebSocketConnection> _connections = new();
    private readonly ServerTelemetry _telemetry;
    private int _count;
    private bool _shuttingDown;
    private DeflateContext? _deflate;   // permessage-deflate's buffers and shared state, made at the first connection that uses it

    /// <param name="options">The server's settings.</param>
    /// <param name="router">The endpoints by path.</param>
    /// <param name="startTime">The clock's reading now: <see cref="Environment.TickCount64"/> for the real loops, the
    /// fake clock's for the fake reactor in tests.</param>
    /// <param name="budget">The server-wide connection count, shared by every loop of the server.</param>
    /// <param name="telemetry">The server's logger and metrics (none when null).</param>
    protected ServerLoop(WebSocketServerOptions options, Router router, long startTime, ConnectionBudget? budget, ServerTelemetry? telemetry)
    {
        _budget = budget ?? new ConnectionBudget(options.MaxConnections, AddressLimits.Of(options));
        _telemetry = telemetry ?? ServerTelemetry.None;
        _options = options;
        _router = router;
        _limits = WebSocketServer.Limits(options);
        Now = startTime;
        CloseTimeoutMs = (long)options.CloseTimeout.TotalMilliseconds;
    }

    /// <summary>The loop's clock (milliseconds), advanced by <see cref="OnTick"/>: reading it costs no system call.</summary>
    public long Now { get; private set; }

    public long CloseTimeoutMs { get; }

    public int ConnectionCount => _count;

    /// <summary>What this loop counts for the metrics.</summary>
    public LoopCounters Counters { get; } = new();

    /// <summary>Where this loop's events go (see <see cref="ServerLog"/>).</summary>
    public Microsoft.Extensions.Logging.ILogger Log => _telemetry.Logger;

    public bool IsLoopThread => _eventLoop?.IsLoopThread ?? true;

    /// <summary>Binds this layer to the loop that drives it (for cross-thread work).</summary>
    public void Attach(IEventLoop eventLoop) => _eventLoop = eventLoop;

    public void Post(ILoopWork work)
    {
        if (_eventLoop is null)
            throw new InvalidOperationException("The server is not running.");
        _eventLoop.Post(RunWork, work);
    }

    public void OnOpen(INetConn net)
    {
        if (_shuttingDown || !_budget.TryReserve())
        {
            ServerLog.HandshakeRefused(Log, 503, RefusalReason(503));
            WriteRefusal(net, 503);
            net.Close();
            return;
        }
        var conn = new WebSocketConnection(this, net, Now) { Deadline = Now + (long)_options.HandshakeTimeout.TotalMilliseconds };
        net.Context = conn;
        conn.Slot = _count;
        _connections[_count++] = conn;
    }

    public abstract void OnData(INetConn net, Span<byte> data);

    /// <summary>Frame bytes of an open connection: the reader unmasks them in place and the dispatcher gets the messages.</summary>
    public abstract void Receive(WebSocketConnection conn, Span<byte> data);

    public abstract void DispatchOpen(WebSocketConnection conn);

    public abstract void DispatchClose(WebSocketConnection conn, CloseStatus status);

    public abstract void DispatchError(WebSocketConnection conn, Exception error);

    public void OnWritable(INetConn net)
    {
    }

    public void OnClose(INetConn net)
    {
        if (net.Context is not WebSocketConnection conn)
            return;
        net.Context = null;
        if (conn.Endpoint is not null && net is IReactorConn { Overflowed: true })
            ServerLog.BackpressureExceeded(Log, conn.Path, _options.MaxBackpressure);
        AbandonUpgrade(conn);
        conn.Disconnected();
        _telemetry.RecordDuration(conn.Age(Now));
        _budget.Release();
        if (conn.AddressEntry is { } addressEntry)
            _budget.PerAddress!.Release(addressEntry);
        int slot = conn.Slot;
        if (slot < 0)
            return;
        var last = _connections[--_count]!;
        _connections[slot] = last;
        last.Slot = slot;
        _connections[_count] = null;
        conn.Slot = -1;
    }

    public void OnTick(long nowMilliseconds)
    {
        Now = nowMilliseconds;
        _budget.PerAddress?.Sweep();
        long serverIdle = (long)_options.IdleTimeout.TotalMilliseconds;
        // Backwards: a connection that closes synchronously swaps the last one into its slot, which was already seen.
        for (int i = _count - 1; i >= 0; i--)
        {
            if (i >= _count)
                continue;
            var conn = _connections[i]!;
            switch (conn.State)
            {
                case WebSocketConnection.Phase.Handshaking when Now >= conn.Deadline:
                    conn.State = WebSocketConnection.Phase.Closed;
                    conn.DropPartialHead();
                    ServerLog.HandshakeTimedOut(Log, (long)_options.HandshakeTimeout.TotalMilliseconds);
                    WriteRefusal(conn.Net, 408);
                    conn.Net.Close();
                    break;
                case WebSocketConnection.Phase.Upgrading when Now >= conn.Deadline:
                    AbandonUpgrade(conn);
                    Refuse(conn, 503);
                    break;
                case WebSocketConnection.Phase.Open when IsIdle(conn, serverIdle):
                    if (conn.PingSent)
                    {
                        ServerLog.IdleTimedOut(Log, conn.Path);
                        conn.Close(WebSocketCloseCode.GoingAway, "idle timeout");
                    }
                    else
                    {
                        conn.SendPing();
                        conn.LastActivity = Now;
                    }
                    break;
                case WebSocketConnection.Phase.CloseSent when Now >= conn.Deadline:
                    ServerLog.CloseTimedOut(Log, conn.Path, CloseTimeoutMs);
                    conn.CloseTimedOut();
                    break;
            }
        }
    }

    private bool IsIdle(WebSocketConnection conn, long serverIdle)
    {
        var own = conn.Endpoint!.Options.IdleTimeout;
        long idle = own.HasValue ? (long)own.Value.TotalMilliseconds : serverIdle;
        return idle > 0 && Now - conn.LastActivity >= idle;
    }

    public void OnShutdown()
    {
        _shuttingDown = true;
        ServerLog.Stopping(Log, _count);
        for (int i = _count - 1; i >= 0; i--)
        {
            if (i >= _count)
                continue;
            var conn = _connections[i]!;
            if (conn.State == WebSocketConnection.Phase.Open)
            {
                conn.Close(WebSocketCloseCode.GoingAway, "server shutting down");
            }
            else if (conn.State is WebSocketConnection.Phase.Handshaking or WebSocketConnection.Phase.Upgrading)
            {
                AbandonUpgrade(conn);
                conn.State = WebSocketConnection.Phase.Closed;
                conn.Net.Close();
            }
        }
    }

    protected void ReceiveHandshake(WebSocketConnection conn, Span<byte> data)
    {
        Span<byte> head = data;
        int appended = data.Length;
        if (conn.HasPartialHead)
        {
            appended = conn.PartialHead.Append(data, _limits.MaxHeaderBytes + 1);
            head = conn.PartialHead.Bytes;
        }

        var status = HttpRequestParser.TryParse(head, _limits, out var request, out int consumed);
        switch (status)
        {
            case HttpParseStatus.NeedMore:
                if (!conn.HasPartialHead)
                    conn.PartialHead.Append(data, _limits.MaxHeaderBytes + 1);
                return;
            case HttpParseStatus.Error:
                Refuse(conn, request.Error.StatusCode);
                return;
        }

        if (!Upgrade(conn, in request))
            return;

        // Frames that came right behind the request head: the rest of the head buffer, then what did not fit in it.
        if (!conn.HasPartialHead)
        {
            Receive(conn, data[consumed..]);
        }
        else
        {
            Receive(conn, conn.PartialHead.Bytes[consumed..]);
            Receive(conn, data[appended..]);
            conn.DropPartialHead();
        }
    }

    /// <summary>Routes and validates the request; writes the 101 response or the refusal.</summary>
    private bool Upgrade(WebSocketConnection conn, in HttpRequestHead request)
    {
        if (!request.Has(KnownHeader.Upgrade) && request.MethodBytes.SequenceEqual("GET"u8) && _router.FindPage(request.PathBytes) is { } page)
        {
            conn.State = WebSocketConnection.Phase.Closed;
            conn.DropPartialHead();
            conn.Net.Write(page.Response);
            conn.Net.Close();
            return false;
        }
        var endpoint = _router.Find(request.PathBytes);
        if (endpoint is null)
        {
            Refuse(conn, 404);
            return false;
        }
        var decision = WsGen.Protocol.Handshake.Validate(in request, endpoint.HandshakeOptions);
        if (!decision.IsAccepted)
        {
            Refuse(conn, decision.StatusCode);
            return false;
        }
        if (_budget.PerAddress is { } perAddress && conn.AddressEntry is null)
        {
            if (!perAddress.TryAdmit(conn.RemoteAddress, out var addressEntry))
            {
                Refuse(conn, HttpStatus.TooManyRequests);
                return false;
            }

            conn.AddressEntry = addressEntry;
        }
        if (_shuttingDown || !endpoint.TryReserve())
        {
            Refuse(conn, 503);
            return false;
        }

        var deflate = AgreeDeflate(in request, endpoint.Options);
        if (endpoint.Options.OnUpgrade is { } hook)
            return RunUpgradeHook(conn, endpoint, hook, in request, in decision, deflate);
        return Accept(conn, endpoint, in decision, deflate, [], state: null);
    }

    /// <summary>Finishes an accepted handshake: the 101 (with the agreed extension and <paramref name="headers"/>),
    /// the message transform, the state the upgrade hook attached, and OnOpen. True when the connection is open (its
    /// trailing bytes are frames to read).</summary>
    private bool Accept(WebSocketConnection conn, Endpoint endpoint, in HandshakeDecision decision, DeflateParameters? deflate,
        IReadOnlyList<KeyValuePair<string, string>> headers, object? state)
    {
        Span<byte> extensions = stackalloc byte[DeflateParameters.MaxLength];
        extensions = deflate is { } agreed ? extensions[..agreed.Write(extensions)] : default;
        int length = WsGen.Protocol.Handshake.GetAcceptLength(in decision, extensions, headers);
        Span<byte> response = length <= 2048 ? stackalloc byte[length] : new byte[length];
        int n = WsGen.Protocol.Handshake.WriteAccept(response, in decision, extensions, headers);
        conn.Net.Write(response[..n]);
        if (deflate is { } parameters)
            conn.AttachMessageTransform(CreateDeflate(in parameters, endpoint.Options));
        conn.UserState = state;
        conn.Opened(endpoint, decision.SubProtocol);
        return conn.State == WebSocketConnection.Phase.Open;
    }

    /// <summary>The permessage-deflate parameters agreed for a connection of an endpoint that has it on, when the
    /// client offers it acceptably; else null.</summary>
    private DeflateParameters? AgreeDeflate(in HttpRequestHead request, WebSocketEndpointOptions options) =>
        options.Compression != WebSocketCompression.Off && request.Has(KnownHeader.SecWebSocketExtensions)
        && DeflateNegotiation.TryAccept(in request, options.Compression, options.CompressionWindowBits, _options.DeflateEngine.MinWindowBits(), out var agreed)
            ? agreed
            : null;

    /// <summary>The transform of agreed permessage-deflate parameters: the loop's shared one, or one of the
    /// connection's own.</summary>
    private IMessageTransform CreateDeflate(in DeflateParameters agreed, WebSocketEndpointOptions options)
    {
        _deflate ??= new DeflateContext(_options.DeflateEngine);
        if (options.Compression == WebSocketCompression.Shared)
            return _deflate.Shared(in agreed, options.CompressionThreshold);
        return _deflate.Dedicated(
            sendWindowBits: agreed.ServerWindowBits == 0 ? options.CompressionWindowBits : agreed.ServerWindowBits,
            receiveWindowBits: agreed.ClientWindowBits == 0 ? 15 : agreed.ClientWindowBits,
            resetDeflater: agreed.ServerNoContextTakeover, resetInflater: agreed.ClientNoContextTakeover, options.CompressionThreshold);
    }

    /// <summary>Bytes while the upgrade hook decides: a client sends nothing before the 101 (RFC 6455 section 4.1).</summary>
    protected void RefuseEarlyFrames(WebSocketConnection conn)
    {
        AbandonUpgrade(conn);
        Refuse(conn, 400);
    }

    private void Refuse(WebSocketConnection conn, int status)
    {
        conn.State = WebSocketConnection.Phase.Closed;
        conn.DropPartialHead();
        ServerLog.HandshakeRefused(Log, status, RefusalReason(status));
        WriteRefusal(conn.Net, status);
        conn.Net.Close();
    }

    /// <summary>What a refusal with <paramref name="status"/> means, for the log.</summary>
    private static string RefusalReason(int status) => status switch
    {
        400 => "not a valid WebSocket upgrade request",
        403 => "the endpoint's origin check refused it",
        404 => "no endpoint at this path",
        426 => "unsupported Sec-WebSocket-Version",
        431 => "request head too large or too many headers",
        429 => "too many connections or handshakes from the client's address",
        503 => "the server or the endpoint is full, or shutting down",
        _ => "refused",
    };

    /// <summary>Writes a refusal with <paramref name="status"/> (the caller closes the connection) and counts it.</summary>
    private void WriteRefusal(INetConn net, int status)
    {
        Counters.Rejected(status);
        Span<byte> response = stackalloc byte[WsGen.Protocol.Handshake.GetRejectLength(status)];
        int n = WsGen.Protocol.Handshake.WriteReject(response, status);
        net.Write(response[..n]);
    }
}

/// <summary>The loop's message path, specialized for one dispatcher struct: the reader's sink calls the
/// dispatcher directly, with no interface or virtual call per message.</summary>
internal sealed class ServerLoop<TDispatcher> : ServerLoop where TDispatcher : struct, IEndpointDispatcher
{
    private TDispatcher _dispatcher;

    public ServerLoop(WebSocketServerOptions options, Router router, TDispatcher dispatcher, long startTime, ConnectionBudget? budget = null,
        ServerTelemetry? telemetry = null)
        : base(options, router, startTime, budget, telemetry)
    {
        _dispatcher = dispatcher;
    }

    public override void OnData(INetConn net, Span<byte> data)
    {
        if (net.Context is not WebSocketConnection conn)
            return;
        conn.PingSent = false;
        if (conn.State == WebSocketConnection.Phase.Open)
            conn.LastActivity = Now;
        if (conn.State == WebSocketConnection.Phase.Handshaking)
            ReceiveHandshake(conn, data);
        else if (conn.State == WebSocketConnection.Phase.Upgrading)
            RefuseEarlyFrames(conn);
        else
            Receive(conn, data);
    }

    public override void Receive(WebSocketConnection conn, Span<byte> data)
    {
        if (conn.State is WebSocketConnection.Phase.Handshaking or WebSocketConnection.Phase.Closed)
            return;
        var sink = new Sink(this, conn);
        var result = conn.Reader.Read(data, conn.Endpoint!.ReaderOptions, ref sink);
        if (result.IsError)
            conn.Fail(result.Code, result.Reason);
    }

    public override void DispatchOpen(WebSocketConnection conn) => _dispatcher.OnOpen(conn.Endpoint!.Index, conn);

    public override void DispatchClose(WebSocketConnection conn, CloseStatus status) => _dispatcher.OnClose(conn.Endpoint!.Index, conn, status);

    public override void DispatchError(WebSocketConnection conn, Exception error) => _dispatcher.OnError(conn.Endpoint!.Index, conn, error);

    private void DeliverMessage(WebSocketConnection conn, WebSocketOpcode opcode, Span<byte> payload)
    {
        if (conn.State != WebSocketConnection.Phase.Open)
            return;
        Counters.Received(payload.Length);
        try
        {
            _dispatcher.OnMessage(conn.Endpoint!.Index, conn, opcode, payload);
        }
        catch (Exception e)
        {
            conn.HandlerFailed(e);
        }
    }

    /// <summary>A message whose first frame carried RSV1: the connection's message transform decodes it, then it is
    /// validated (Text) and delivered as any other.</summary>
    private void DeliverTransformedMessage(WebSocketConnection conn, WebSocketOpcode opcode, Span<byte> payload)
    {
        if (!conn.MessageTransform!.TryDecode(payload, conn.Endpoint!.ReaderOptions.MaxMessageSize, out Span<byte> message, out WebSocketCloseCode failure))
        {
            conn.Fail(failure, "the message does not decode");
            return;
        }

        if (opcode == WebSocketOpcode.Text && !Utf8Validator.IsValid(message))
        {
            conn.Fail(WebSocketCloseCode.InvalidPayloadData, "invalid UTF-8 in a text message");
            return;
        }

        DeliverMessage(conn, opcode, message);
    }

    private readonly struct Sink(ServerLoop<TDispatcher> loop, WebSocketConnection conn) : IFrameSink
    {
        public void OnMessage(WebSocketOpcode opcode, Span<byte> payload) => loop.DeliverMessage(conn, opcode, payload);

        public void OnTransformedMessage(WebSocketOpcode opcode, Span<byte> payload) => loop.DeliverTransformedMessage(conn, opcode, payload);

        public void OnPing(Span<byte> payload) => conn.OnPing(payload);

        public void OnPong(Span<byte> payload) => conn.PingSent = false;

        public void OnClose(ushort code, ReadOnlySpan<byte> reason) => conn.OnPeerClose(code, reason);
    }
}
