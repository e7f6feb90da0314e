using System.Text;
using WsGen.Protocol;
using WsGen.Server;

namespace WsGen.Tests.Server;

/// <summary>
/// The server's WebSocket layer on a <see cref="FakeReactor"/> with in-memory connections: no socket, no thread,
/// and a clock the test moves, so timeouts are tested deterministically.
/// </summary>
internal sealed class FakeServer
{
    public FakeServer(IWebSocketEndpoint endpoint, WebSocketServerOptions? options = null, WebSocketEndpointOptions? endpointOptions = null)
        : this(options, endpointOptions, (o, router) => new ServerLoop<InterfaceDispatcher>(o, router, new InterfaceDispatcher([endpoint]), startTime: 0))
    {
    }

    private FakeServer(WebSocketServerOptions? options, WebSocketEndpointOptions? endpointOptions, Func<WebSocketServerOptions, Router, ServerLoop> createLoop)
    {
        Options = options ?? new WebSocketServerOptions();
        var route = new EndpointRoute("*", endpointOptions ?? new WebSocketEndpointOptions());
        var router = new Router([new Endpoint(0, route, WebSocketServer.Limits(Options))]);
        Loop = createLoop(Options, router);
        Reactor = new FakeReactor(Loop);
        Loop.Attach(Reactor);
    }

    /// <summary>A server whose one endpoint (index 0) is called through <paramref name="dispatcher"/>, as a
    /// generated application's is.</summary>
    public static FakeServer WithDispatcher<TDispatcher>(TDispatcher dispatcher, WebSocketServerOptions? options = null)
        where TDispatcher : struct, IEndpointDispatcher =>
        new(options, null, (o, router) => new ServerLoop<TDispatcher>(o, router, dispatcher, startTime: 0));

    public WebSocketServerOptions Options { get; }
    public ServerLoop Loop { get; }
    public FakeReactor Reactor { get; }

    /// <summary>Connects a fake client (nothing sent yet).</summary>
    public FakeClient Connect()
    {
        var (serverSide, clientSide) = InMemoryConn.CreatePair();
        Reactor.Register(serverSide);
        return new FakeClient(this, clientSide);
    }

    /// <summary>Connects a fake client and completes the handshake.</summary>
    public FakeClient Open()
    {
        var client = Connect();
        client.SendAscii(RawWebSocket.Request());
        Assert.StartsWith("HTTP/1.1 101 ", client.ReadHttpHead());
        return client;
    }
}

/// <summary>The client end of an in-memory connection: writes masked frames, reads and parses server frames.</summary>
internal sealed class FakeClient(FakeServer server, InMemoryConn conn)
{
    private readonly List<byte> _input = [];
    private WebSocketReader _reader;
    private static readonly ReaderOptions ClientSide = new() { ExpectMasked = false, MaxMessageSize = 64 << 20 };

    public InMemoryConn Conn => conn;

    public void SendAscii(string text) => SendBytes(Encoding.ASCII.GetBytes(text));

    public void SendBytes(ReadOnlySpan<byte> bytes)
    {
        conn.Write(bytes);
        server.Reactor.RunUntilIdle();
    }

    public void SendFrame(WebSocketOpcode opcode, ReadOnlySpan<byte> payload, bool fin = true, bool rsv1 = false)
    {
        var frame = new byte[14 + payload.Length];
        int n = FrameWriter.WriteFrame(frame, opcode, fin, payload, 0xA1B2C3D4u, rsv1);
        SendBytes(frame.AsSpan(0, n));
    }

    /// <summary>From now on the client-side reader accepts RSV1 on a data message (the server's message transform):
    /// such messages are listed by <see cref="ReadTransformedFrames"/>.</summary>
    public void AcceptRsv1() => _reader.AllowRsv1();

    public string ReadHttpHead()
    {
        Pump();
        var text = Encoding.ASCII.GetString(_input.ToArray());
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end >= 0, $"no complete HTTP head in: {text}");
        _input.RemoveRange(0, end + 4);
        return text[..(end + 4)];
    }

    /// <summary>Every frame the server sent so far, parsed by a strict client-side reader.</summary>
    public List<(WebSocketOpcode Opcode, byte[] Payload)> ReadFrames() => ReadAll().Frames;

    /// <summary>The data messages with RSV1 the server sent so far (see <see cref="AcceptRsv1"/>), as they came.</summary>
    public List<(WebSocketOpcode Opcode, byte[] Payload)> ReadTransformedFrames() => ReadAll().Transformed;

    /// <summary>Every frame the server sent so far in order, each with whether it carried RSV1 (see <see cref="AcceptRsv1"/>).</summary>
    public List<(WebSocketOpcode Opcode, byte[] Payload, bool Rsv1)> ReadFramesInOrder() => ReadAll().InOrder;

    private Recorder ReadAll()
    {
        Pump();
        var bytes = _input.ToArray();
        _input.Clear();
        var sink = new Recorder();
        var result = _reader.Read(bytes, ClientSide, ref sink);
        Assert.False(result.IsError, $"the server sent an invalid frame: {result.Reason}");
        return sink;
    }

    /// <summary>True once the server closed its end and everything was read.</summary>
    public bool ServerClosed
    {
        get
        {
            Pump();
            Span<byte> probe = stackalloc byte[1];
            return conn.Read(probe) == 0;
        }
    }

    private void Pump()
    {
        server.Reactor.RunUntilIdle();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = conn.Read(buffer)) > 0)
            _input.AddRange(buffer.AsSpan(0, n).ToArray());
    }

    private sealed class Recorder : IFrameSink
    {
        public List<(WebSocketOpcode, byte[])> Frames { get; } = [];
        public List<(WebSocketOpcode, byte[], bool)> InOrder { get; } = [];
        public void OnMessage(WebSocketOpcode opcode, Span<byte> payload)
        {
            Frames.Add((opcode, payload.ToArray()));
            InOrder.Add((opcode, payload.ToArray(), false));
        }
        public void OnTransformedMessage(WebSocketOpcode opcode, Span<byte> payload)
        {
            Transformed.Add((opcode, payload.ToArray()));
            InOrder.Add((opcode, payload.ToArray(), true));
        }
        public List<(WebSocketOpcode, byte[])> Transformed { get; } = [];
        public void OnPing(Span<byte> payload) => Add(WebSocketOpcode.Ping, payload.ToArray());
        public void OnPong(Span<byte> payload) => Add(WebSocketOpcode.Pong, payload.ToArray());
        public void OnClose(ushort code, ReadOnlySpan<byte> reason) => Add(WebSocketOpcode.Close, [(byte)(code >> 8), (byte)code, .. reason]);

        private void Add(WebSocketOpcode opcode, byte[] payload)
        {
            Frames.Add((opcode, payload));
            InOrder.Add((opcode, payload, false));
        }
    }
}

/// <summary>An endpoint that records what it is told and can be told to echo or to throw.</summary>
internal sealed class RecordingEndpoint : IWebSocketEndpoint
{
    public List<WebSocketConnection> Opened { get; } = [];
    public List<(WebSocketOpcode Opcode, byte[] Payload)> Messages { get; } = [];
    public List<CloseStatus> Closed { get; } = [];
    public bool Echo { get; set; } = true;
    public bool Throw { get; set; }

    public void OnOpen(WebSocketConnection conn) => Opened.Add(conn);

    public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
    {
        Messages.Add((opcode, payload.ToArray()));
        if (Throw)
            throw new InvalidOperationException("endpoint bug");
        if (Echo)
            conn.Send(payload, opcode);
    }

    public void OnClose(WebSocketConnection conn, CloseStatus status) => Closed.Add(status);
}
