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
    private int _count;
    private bool _shuttingDown;

    /// <param name="options">The server's settings.</param>
    /// <param name="router">The endpoints by path.</param>
    /// <param name="startTime">The clock's reading now: <see cref="Environment.TickCount64"/> for the real loops, the
    /// fake clock's for the fake reactor in tests.</param>
    /// <param name="budget">The server-wide connection count, shared by every loop of the server.</param>
    protected ServerLoop(WebSocketServerOptions options, Router router, long startTime, ConnectionBudget? budget)
    {
        _budget = budget ?? new ConnectionBudget(options.MaxConnections);
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
        conn.Disconnected();
        _budget.Release();
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
                    WriteRefusal(conn.Net, 408);
                    conn.Net.Close();
                    break;
                case WebSocketConnection.Phase.Open when IsIdle(conn, serverIdle):
                    if (conn.PingSent)
                    {
                        conn.Close(WebSocketCloseCode.GoingAway, "idle timeout");
                    }
                    else
                    {
                        conn.SendPing();
                        conn.LastActivity = Now;
                    }
                    break;
                case WebSocketConnection.Phase.CloseSent when Now >= conn.Deadline:
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
        for (int i = _count - 1; i >= 0; i--)
        {
            if (i >= _count)
                continue;
            var conn = _connections[i]!;
            if (conn.State == WebSocketConnection.Phase.Open)
            {
                conn.Close(WebSocketCloseCode.GoingAway, "server shutting down");
            }
            else if (conn.State == WebSocketConnection.Phase.Handshaking)
            {
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
        if (_shuttingDown || !endpoint.TryReserve())
        {
            Refuse(conn, 503);
            return false;
        }

        Span<byte> response = stackalloc byte[WsGen.Protocol.Handshake.GetAcceptLength(decision.SubProtocol)];
        int n = WsGen.Protocol.Handshake.WriteAccept(response, in decision);
        conn.Net.Write(response[..n]);
        conn.Opened(endpoint, decision.SubProtocol);
        return conn.State == WebSocketConnection.Phase.Open;
    }

    private void Refuse(WebSocketConnection conn, int status)
    {
        conn.State = WebSocketConnection.Phase.Closed;
        conn.DropPartialHead();
        WriteRefusal(conn.Net, status);
        conn.Net.Close();
    }

    private static void WriteRefusal(INetConn net, int status)
    {
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

    public ServerLoop(WebSocketServerOptions options, Router router, TDispatcher dispatcher, long startTime, ConnectionBudget? budget = null)
        : base(options, router, startTime, budget)
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
