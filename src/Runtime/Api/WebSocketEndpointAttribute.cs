namespace WsGen;

/// <summary>
/// Marks a partial class as a WebSocket endpoint served at <see cref="Path"/>. At build time the WsGen generator
/// emits, for every such class in the compilation, a struct that calls its handler methods directly and the code
/// that serves them with the loop of the target platform; the sizes below become compile-time constants.
/// </summary>
/// <remarks>
/// Handler methods are found by name: <c>OnOpen(IWebSocketConn)</c>, <c>OnMessage(IWebSocketConn, WebSocketFrame)</c>
/// (the frame is the handler's: it must Release it, and may keep it past the call) or
/// <c>OnMessage(IWebSocketConn, ReadOnlySpan&lt;byte&gt;, WebSocketOpcode)</c> (borrowed, valid during the call only),
/// <c>OnClose(IWebSocketConn, CloseStatus)</c> and <c>OnError(IWebSocketConn, Exception)</c>; each may return void or
/// ValueTask, and the connection parameter may also be typed <see cref="WebSocketConnection"/>.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class WebSocketEndpointAttribute(string path) : Attribute
{
    /// <summary>The request path, starting with '/', or "*" for every path no other endpoint takes.</summary>
    public string Path { get; } = path;

    /// <summary>Open connections of this endpoint; the next handshake is refused with 503. Also the capacity of the
    /// endpoint's connection table, allocated once at start.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Largest message in bytes after reassembly; larger fails the connection with 1009.</summary>
    public int MaxMessageSize { get; set; } = 1024 * 1024;

    /// <summary>Size of the loop's shared receive buffer (the largest value among the endpoints is used).</summary>
    public int ReceiveBufferSize { get; set; } = 64 * 1024;

    /// <summary>Bytes that may wait for a slow peer before the connection is aborted (the largest value among the
    /// endpoints is used by the loop).</summary>
    public int MaxBackpressure { get; set; } = 4 * 1024 * 1024;

    /// <summary>Subprotocols spoken, by preference.</summary>
    public string[]? SubProtocols { get; set; }

    /// <summary>Seconds of silence before a ping, and as many again before the connection is closed with 1001;
    /// 0 turns idle detection off for this endpoint. When the attribute does not set it, the server's
    /// <see cref="WebSocketServerOptions.IdleTimeout"/> applies (120 s unless configured).</summary>
    public int IdleTimeoutSeconds { get; set; } = 120;

    /// <summary>permessage-deflate for this endpoint's connections (RFC 7692); Off by default. The run-time
    /// <see cref="WebSocketEndpointOptions.Compression"/> overrides it.</summary>
    public WebSocketCompression Compression { get; set; }
    /// <summary>Pub/sub topics every connection is subscribed to when it opens, before OnOpen runs.</summary>
    public string[]? Topics { get; set; }

    /// <summary>Bytes that may wait for a subscriber before a published message meets <see cref="SlowSubscribers"/>
    /// (1 MiB); keep it well below <see cref="MaxBackpressure"/>.</summary>
    public int PublishLimit { get; set; } = 1024 * 1024;

    /// <summary>What a published message does to a subscriber past <see cref="PublishLimit"/>: drop it for that
    /// subscriber (the default), or also close the subscriber with 1013.</summary>
    public SlowSubscriberPolicy SlowSubscribers { get; set; } = SlowSubscriberPolicy.Drop;
}
