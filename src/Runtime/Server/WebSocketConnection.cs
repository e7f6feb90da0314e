using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using WsGen.Protocol;
using WsGen.Reactor;
using WsGen.Server;
using WsGen.Transport;

namespace WsGen;

/// <summary>
/// The server side of one WebSocket connection. Lives on one loop thread; <see cref="Send"/> and
/// <see cref="Close(WebSocketCloseCode, string)"/> may be called from any thread (off the loop they are handed to it).
/// </summary>
/// <remarks>
/// An idle connection holds only this object and the loop's connection object: no buffer. Sends made while the
/// loop handles this connection's bytes are corked into one system call.
/// </remarks>
public sealed partial class WebSocketConnection : IWebSocketConn
{
    internal enum Phase : byte { Handshaking, Upgrading, Open, CloseSent, Closed }

    private const int SmallFrameInline = 512;

    private readonly ServerLoop _loop;
    internal readonly INetConn Net;
    internal Endpoint? Endpoint;
    internal WebSocketReader Reader;
    internal Phase State;
    internal bool PingSent;
    private bool _closeReported;
    private readonly bool _corkable;        // Net is an ICorkedOutput: frames can be built in the loop's cork
    internal int Slot = -1;
    private readonly uint _accepted;        // the loop's clock when the connection was accepted (ms, wraps)
    private long _time;
    private ColdState? _cold;
    private IMessageTransform? _transform;  // here, not in ColdState: a shared-mode deflate connection allocates nothing

    internal WebSocketConnection(ServerLoop loop, INetConn net, long now)
    {
        _loop = loop;
        Net = net;
        _time = now;
        _accepted = (uint)now;
        _corkable = net is ICorkedOutput;
    }

    /// <summary>Milliseconds since the connection was accepted, by the loop's clock reading <paramref name="now"/>.</summary>
    internal uint Age(long now) => (uint)now - _accepted;

    /// <summary>While handshaking, when the handshake times out; while closing (<see cref="Phase.CloseSent"/>), when
    /// the close times out. Shares its storage with <see cref="LastActivity"/>, which only an open connection uses.</summary>
    internal long Deadline
    {
        get => _time;
        set => _time = value;
    }

    /// <summary>While open, when the peer last sent bytes (or the last ping went out). Set only in <see cref="Phase.Open"/>:
    /// in the other phases the storage holds <see cref="Deadline"/>.</summary>
    internal long LastActivity
    {
        get => _time;
        set => _time = value;
    }

    /// <summary>The request path the client connected to (without the query).</summary>
    public string Path => Endpoint?.Path ?? "";

    public string? SubProtocol => _cold?.SubProtocol;

    public bool IsOpen => State == Phase.Open;

    /// <summary>The application's state for this connection: what the endpoint's upgrade hook attached
    /// (<see cref="WebSocketUpgradeDecision.State"/>, set before OnOpen), or anything a handler stores.</summary>
    public object? UserState
    {
        get => _cold?.UserState;
        set
        {
            if (value is not null || _cold is not null)
                Cold.UserState = value;
        }
    }

    /// <summary>The peer's address and port, as the accept reported them (null for a connection whose transport
    /// does not know it). Each read builds a new <see cref="IPEndPoint"/> from the loop's compact copy; read it on the
    /// loop thread, in a handler, while the connection is open.</summary>
    public IPEndPoint? RemoteEndPoint => (Net as IPeerConn)?.RemoteEndPoint;

    /// <summary>The endpoint of the listener that accepted the connection, as it was bound (a listener on a wildcard
    /// address reports the wildcard): the server's <see cref="WebSocketServer.TlsLocalEndPoint"/> for a wss://
    /// connection, its <see cref="WebSocketServer.LocalEndPoint"/> for a ws:// one; null for a connection whose
    /// transport does not know it.</summary>
    public IPEndPoint? LocalEndPoint => (Net as IPeerConn)?.LocalEndPoint;

    /// <summary>The peer's address in its compact form (unknown for a transport that does not know it).</summary>
    internal PeerAddress RemoteAddress => Net is IPeerConn peer ? peer.RemoteAddress : default;

    /// <summary>The per-address limits' entry that counted this connection (null when the limits are off or have not
    /// counted it yet): kept from the handshake, so its place is given back to the right address when it goes.</summary>
    internal AddressLimits.Entry? AddressEntry
    {
        get => _cold?.AddressEntry;
        set => Cold.AddressEntry = value;
    }

    /// <summary>The state most connections never use, allocated on first use.</summary>
    private ColdState Cold => _cold ??= new ColdState();

    /// <summary>The close status this side sent (default until then).</summary>
    private CloseStatus CloseSent => _cold?.CloseSent ?? default;

    /// <summary>True while part of an upgrade request waits in <see cref="PartialHead"/>.</summary>
    internal bool HasPartialHead => _cold is { PartialHead.IsEmpty: false };

    /// <summary>The bytes of an upgrade request that arrived in pieces (the usual request arrives in one read and
    /// never touches it).</summary>
    internal ref HandshakeBuffer PartialHead => ref Cold.PartialHead;

    /// <summary>While <see cref="Phase.Upgrading"/>, the endpoint's asynchronous upgrade hook this connection waits for.</summary>
    internal PendingUpgrade? PendingUpgrade
    {
        get => _cold?.PendingUpgrade;
        set
        {
            if (value is not null || _cold is not null)
                Cold.PendingUpgrade = value;
        }
    }

    /// <summary>Returns the buffer of <see cref="PartialHead"/>, if any.</summary>
    internal void DropPartialHead() => _cold?.PartialHead.Dispose();

    /// <summary>Server connections push messages to the endpoint's OnMessage; there is nothing to pull.</summary>
    public WebSocketFrame ReadFrame() =>
        throw new NotSupportedException("Server connections deliver messages to the endpoint's OnMessage; ReadFrame is for client connections.");

    public void WriteFrame(WebSocketFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.IsReleased)
            throw new InvalidOperationException("The frame was released; its payload is no longer yours to send.");
        SendFrame(frame.Payload.Span, frame.Opcode, frame.IsFinal);
    }

    public void Send(ReadOnlySpan<byte> payload, WebSocketOpcode opcode = WebSocketOpcode.Binary) =>
        SendFrame(payload, opcode, fin: true);

    /// <summary>Sends a UTF-8 text message.</summary>
    public void SendText(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        SendFrame(bytes, WebSocketOpcode.Text, fin: true);
    }

    private void SendFrame(ReadOnlySpan<byte> payload, WebSocketOpcode opcode, bool fin)
    {
        ValidateOutgoing(payload, opcode, fin);
        if (_transform is not null && fin && opcode != WebSocketOpcode.Continuation)
        {
            SendTransformed(payload, opcode);
            return;
        }

        // The usual case, a send from a callback of this connection: the frame is built in the loop's cork, with one
        // copy of the payload. The state is read before the loop checks the thread, but only used when it is the loop's.
        if (_corkable && State == Phase.Open)
        {
            Span<byte> frame = Unsafe.As<ICorkedOutput>(Net).TakeCorked(FrameWriter.UnmaskedHeaderSize(payload.Length) + payload.Length);
            if (!frame.IsEmpty)
            {
                FrameWriter.WriteUnmaskedFrame(frame, opcode, fin, payload);
                _loop.Counters.Sent(payload.Length, fin);
                return;
            }
        }
        if (!_loop.IsLoopThread)
        {
            _loop.Post(new CrossThreadSend(this, payload.ToArray(), opcode, fin));
            return;
        }
        if (State != Phase.Open)
            return;
        WriteFrameOnLoop(payload, opcode, fin);
    }

    private static void ValidateOutgoing(ReadOnlySpan<byte> payload, WebSocketOpcode opcode, bool fin)
    {
        switch (opcode)
        {
            case WebSocketOpcode.Text:
                if (!Utf8Validator.IsValid(payload))
                    throw new ArgumentException("A text message must be valid UTF-8.", nameof(payload));
                break;
            case WebSocketOpcode.Binary:
            case WebSocketOpcode.Continuation:
                break;
            case WebSocketOpcode.Ping:
            case WebSocketOpcode.Pong:
                if (payload.Length > 125 || !fin)
                    throw new ArgumentException("A ping or pong carries at most 125 bytes in one frame.", nameof(payload));
                break;
            default:
                throw new ArgumentException($"Opcode {opcode} cannot be sent this way; use Close to close.", nameof(opcode));
        }
    }

    /// <summary>A whole data message on a connection with a message transform: encoded on the loop thread (the
    /// transform's state is the loop's), then sent with RSV1, or as it is when the transform declines.</summary>
    private void SendTransformed(ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
    {
        if (!_loop.IsLoopThread)
        {
            _loop.Post(new CrossThreadSend(this, payload.ToArray(), opcode, fin: true));
            return;
        }

        if (State != Phase.Open)
            return;
        if (_transform!.TryEncode(payload, out ReadOnlySpan<byte> encoded))
            WriteFrameOnLoop(encoded, opcode, fin: true, rsv1: true);
        else
            WriteFrameOnLoop(payload, opcode, fin: true);
    }

    /// <summary>Writes one frame into the loop's output: small frames with one write, large ones header then payload.</summary>
    [SkipLocalsInit]
    internal void WriteFrameOnLoop(ReadOnlySpan<byte> payload, WebSocketOpcode opcode, bool fin, bool rsv1 = false)
    {
        if (opcode <= WebSocketOpcode.Binary)
            _loop.Counters.Sent(payload.Length, fin);
        if (payload.Length <= SmallFrameInline)
        {
            Span<byte> frame = stackalloc byte[SmallFrameInline + 14];
            int n = FrameWriter.WriteFrame(frame, opcode, fin, payload, rsv1: rsv1);
            Net.Write(frame[..n]);
            return;
        }
        Span<byte> header = stackalloc byte[14];
        int h = FrameWriter.WriteHeader(header, opcode, fin, payload.Length, rsv1: rsv1);
        Net.Write(header[..h]);
        Net.Write(payload);
    }

    /// <summary>The connection's message transform (the extension negotiated at the upgrade), or null.</summary>
    internal IMessageTransform? MessageTransform => _transform;

    /// <summary>Puts <paramref name="transform"/> on this connection's messages from now on: data messages with RSV1
    /// are decoded before delivery, and whole outgoing messages encoded (see <see cref="IMessageTransform"/>).</summary>
    internal void AttachMessageTransform(IMessageTransform transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        if (_transform is not null)
            throw new InvalidOperationException("A message transform is attached once.");
        _transform = transform;
        Reader.AllowRsv1();
    }

    public void Close() => Close(WebSocketCloseCode.NormalClosure);

    /// <summary>Starts the close handshake: sends a close frame, then waits up to the server's CloseTimeout for the
    /// peer's before closing TCP. OnClose reports <paramref name="code"/>.</summary>
    public void Close(WebSocketCloseCode code, string reason = "")
    {
        if (!CloseCodes.IsValidReceived((ushort)code))
            throw new ArgumentOutOfRangeException(nameof(code), $"{(ushort)code} may not be sent in a close frame.");
        if (!_loop.IsLoopThread)
        {
            _loop.Post(new CrossThreadClose(this, code, reason));
            return;
        }
        if (State != Phase.Open)
            return;
        WriteClose(code, reason);
        Cold.CloseSent = new CloseStatus(code, reason);
        State = Phase.CloseSent;
        Deadline = _loop.Now + _loop.CloseTimeoutMs;
    }

    private void WriteClose(WebSocketCloseCode code, ReadOnlySpan<char> reason)
    {
        Span<byte> frame = stackalloc byte[2 + 125];
        int n = FrameWriter.WriteClose(frame, (ushort)code, reason);
        Net.Write(frame[..n]);
    }

    // ---- called by the loop ----

    /// <summary>The upgrade succeeded: from now on bytes are WebSocket frames.</summary>
    internal void Opened(Endpoint endpoint, string? subProtocol)
    {
        Endpoint = endpoint;
        LastActivity = _loop.Now;
        if (subProtocol is not null)
            Cold.SubProtocol = subProtocol;
        State = Phase.Open;
        foreach (string topic in endpoint.Options.Topics)
            _loop.Subscribe(this, topic, reserved: null);
        try
        {
            _loop.DispatchOpen(this);
        }
        catch (Exception e)
        {
            HandlerFailed(e);
        }
    }

    /// <summary>The endpoint threw: it hears of it through OnError, and the peer gets 1011.</summary>
    internal void HandlerFailed(Exception error)
    {
        try
        {
            _loop.DispatchError(this, error);
        }
        catch (Exception)
        {
            // OnError itself failed; the connection is failed below all the same.
        }
        ServerLog.EndpointFailed(_loop.Log, error, Path);
        Fail(WebSocketCloseCode.InternalServerError, "endpoint failed");
    }

    /// <summary>An asynchronous handler failed (its ValueTask faulted after the call returned): runs
    /// <see cref="HandlerFailed"/> on the loop thread, posting it there when called from elsewhere.</summary>
    internal void HandlerFailedFromAnyThread(Exception error)
    {
        if (_loop.IsLoopThread)
            HandlerFailed(error);
        else
            _loop.Post(new CrossThreadFailure(this, error));
    }

    /// <summary>Fails the connection (RFC 6455 7.1.7): sends a close frame with <paramref name="code"/>, reports it,
    /// and closes TCP once the frame is out (the loop drains the peer so no reset swallows the frame).</summary>
    internal void Fail(WebSocketCloseCode code, string reason)
    {
        if (State == Phase.Closed)
            return;
        if (code != WebSocketCloseCode.InternalServerError)
            ServerLog.ConnectionFailed(_loop.Log, Path, (int)code, reason);
        if (State == Phase.Open)
            WriteClose(code, reason);
        State = Phase.Closed;
        ReportClose(new CloseStatus(code, reason));
        Net.Close();
    }

    /// <summary>The close timeout passed without the peer's close frame.</summary>
    internal void CloseTimedOut()
    {
        State = Phase.Closed;
        ReportClose(CloseSent);
        Net.Close();
    }

    /// <summary>The loop closed the socket.</summary>
    internal void Disconnected()
    {
        if (Endpoint is not null)
            ReportClose(State == Phase.CloseSent ? CloseSent : new CloseStatus(WebSocketCloseCode.AbnormalClosure));
        State = Phase.Closed;
        if (_cold?.Subscriptions is { } subscriptions)
            _loop.UnsubscribeAll(subscriptions);
        Reader.Dispose();
        DropPartialHead();
        _transform?.Dispose();
    }

    private void ReportClose(CloseStatus status)
    {
        if (_closeReported || Endpoint is null)
            return;
        _closeReported = true;
        Endpoint.Release();
        _loop.Counters.Closed((int)status.Code);
        try
        {
            _loop.DispatchClose(this, status);
        }
        catch (Exception)
        {
            // The connection is gone either way; an endpoint's failure in OnClose must not stop the loop.
        }
    }

    internal void OnPeerClose(ushort code, ReadOnlySpan<byte> reason)
    {
        if (State == Phase.Open)
        {
            // Echo the peer's code (RFC 6455 5.5.1); a close without a body is answered without one.
            Span<byte> frame = stackalloc byte[2 + 2];
            int n = code == (ushort)WebSocketCloseCode.NoStatusReceived
                ? FrameWriter.WriteHeader(frame, WebSocketOpcode.Close, true, 0)
                : FrameWriter.WriteClose(frame, code, default);
            Net.Write(frame[..n]);
            Cold.CloseSent = new CloseStatus((WebSocketCloseCode)code, reason.IsEmpty ? "" : Encoding.UTF8.GetString(reason));
        }
        State = Phase.Closed;
        ReportClose(CloseSent);
        Net.Close();
    }

    internal void OnPing(Span<byte> payload)
    {
        if (State == Phase.Open)
            WriteFrameOnLoop(payload, WebSocketOpcode.Pong, fin: true);
    }

    internal void SendPing()
    {
        WriteFrameOnLoop(default, WebSocketOpcode.Ping, fin: true);
        PingSent = true;
    }

    /// <summary>What a connection holds only when it needs it: a request head that arrived in pieces, a subprotocol,
    /// the user's state, the status of a close in progress. Kept out of the connection so that an idle one stays small.</summary>
    private sealed class ColdState
    {
        public HandshakeBuffer PartialHead;
        public string? SubProtocol;
        public object? UserState;
        public CloseStatus CloseSent;
        public PendingUpgrade? PendingUpgrade;
        public Subscriptions? Subscriptions;
        public AddressLimits.Entry? AddressEntry;
    }

    private sealed class CrossThreadSend(WebSocketConnection conn, byte[] payload, WebSocketOpcode opcode, bool fin) : ILoopWork
    {
        public void Run()
        {
            if (conn.State != Phase.Open)
                return;
            if (conn.MessageTransform is not null && fin && opcode != WebSocketOpcode.Continuation)
                conn.SendTransformed(payload, opcode);
            else
                conn.WriteFrameOnLoop(payload, opcode, fin);
        }
    }

    private sealed class CrossThreadFailure(WebSocketConnection conn, Exception error) : ILoopWork
    {
        public void Run() => conn.HandlerFailed(error);
    }

    private sealed class CrossThreadClose(WebSocketConnection conn, WebSocketCloseCode code, string reason) : ILoopWork
    {
        public void Run() => conn.Close(code, reason);
    }
}
