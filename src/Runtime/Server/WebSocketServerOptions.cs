using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging;

namespace WsGen;

/// <summary>Settings of a <see cref="WebSocketServer"/>.</summary>
public sealed class WebSocketServerOptions
{
    /// <summary>Where to listen. Port 0 picks a free port (see <see cref="WebSocketServer.LocalEndPoint"/>).</summary>
    public IPEndPoint EndPoint { get; set; } = new(IPAddress.Loopback, 9001);

    /// <summary>TLS (wss://) settings, or null (the default) for plain ws:// only. Without <see cref="TlsEndPoint"/>,
    /// <see cref="EndPoint"/> serves TLS; with it, <see cref="EndPoint"/> stays plain and TLS is served there.</summary>
    public WebSocketTlsOptions? Tls { get; set; }

    /// <summary>Where to serve TLS beside the plain listener of <see cref="EndPoint"/> (null: <see cref="EndPoint"/>
    /// serves TLS when <see cref="Tls"/> is set). Port 0 picks a free port (see
    /// <see cref="WebSocketServer.TlsLocalEndPoint"/>).</summary>
    public IPEndPoint? TlsEndPoint { get; set; }

    /// <summary>The whole upgrade request must arrive within this time (slowloris); otherwise 408 and close. On a TLS
    /// listener the TLS handshake counts in it.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a connection waits for an endpoint's asynchronous upgrade hook (<see cref="WebSocketEndpointOptions.OnUpgrade"/>)
    /// to decide; past it the handshake is refused with 503 and the decision, when it comes, is dropped.</summary>
    public TimeSpan UpgradeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Handshakes each loop lets wait for an asynchronous upgrade hook at once; while that many wait, a new
    /// handshake on an endpoint with a hook is refused with 503 before its hook runs.</summary>
    public int MaxPendingUpgrades { get; set; } = 1024;

    /// <summary>Connections one client address (its port left out) may hold at once, over every endpoint and loop,
    /// handshakes included; past it a handshake is refused with 429 before any upgrade hook runs. 0 (the default):
    /// no limit.</summary>
    public int MaxConnectionsPerAddress { get; set; }

    /// <summary>Handshakes one client address may start each second, over every endpoint and loop (a token bucket
    /// holding one second's worth, so short bursts of up to this many pass); past it a handshake is refused with 429
    /// before any upgrade hook runs. 0 (the default): no limit.</summary>
    public int MaxHandshakesPerSecondPerAddress { get; set; }

    /// <summary>A connection silent for this long is sent a ping; silent for as long again, it is closed with 1001.
    /// <see cref="TimeSpan.Zero"/> turns idle detection off.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>After WsGen sends a close frame, how long it waits for the peer's before closing TCP.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest request head (request line and headers), in bytes; larger gets 431.</summary>
    public int MaxHandshakeBytes { get; set; } = 8 * 1024;

    /// <summary>Most header lines in the request head; more gets 431.</summary>
    public int MaxHeaderCount { get; set; } = 64;

    /// <summary>Connections over all endpoints, handshakes included; the next one gets 503 before the upgrade.</summary>
    public int MaxConnections { get; set; } = 1_000_000;

    /// <summary>How many loops serve, each on its own thread pinned to its own CPU, all listening on the port
    /// (SO_REUSEPORT). 1 by default: endpoint methods then never run concurrently. With more, each connection stays on
    /// one loop but endpoints are called from several threads at once, so state they share must be thread-safe.</summary>
    public int Loops { get; set; } = 1;

    /// <summary>Which loop to run. <see cref="WebSocketLoop.Default"/> (the default) takes the loop the environment
    /// variable <c>WSGEN_REACTOR</c> names (<c>io_uring</c>, <c>epoll</c>, <c>kqueue</c>, <c>iocp</c> or <c>sockets</c>,
    /// case-insensitive; another name makes <see cref="WebSocketServer.Start"/> throw an <see cref="ArgumentException"/>),
    /// else the native loop of the platform. Any other value forces that loop (on a platform without it, Start throws
    /// <see cref="PlatformNotSupportedException"/>).</summary>
    public WebSocketLoop Loop { get; set; } = WebSocketLoop.Default;

    /// <summary>Bytes of the loop's receive buffer, shared by all the connections of a loop (512 KiB). A generated
    /// <c>WsGenApp.CreateServer</c> sets it to the largest <see cref="WebSocketEndpointAttribute.ReceiveBufferSize"/>.</summary>
    public int ReceiveBufferSize
    {
        get => ReactorOptions.ReceiveBufferSize;
        set => ReactorOptions = ReactorOptions with { ReceiveBufferSize = value };
    }

    /// <summary>While more than this many bytes wait for a connection's socket (a slow peer), the loop stops reading
    /// that connection, so that TCP flow control reaches the peer; reading resumes once everything is flushed (256 KiB;
    /// <see cref="MaxBackpressure"/> when that is lower).</summary>
    public int PauseReadingThreshold
    {
        get => ReactorOptions.PauseReadingThreshold;
        set => ReactorOptions = ReactorOptions with { PauseReadingThreshold = value };
    }

    /// <summary>Bytes that may wait for a connection's socket; a send that would pass this aborts the connection
    /// (128 MiB). A generated <c>WsGenApp.CreateServer</c> sets it to the largest
    /// <see cref="WebSocketEndpointAttribute.MaxBackpressure"/>.</summary>
    public long MaxBackpressure
    {
        get => ReactorOptions.MaxBackpressure;
        set => ReactorOptions = ReactorOptions with { MaxBackpressure = value };
    }

    /// <summary>On shutdown, how long the loops wait for the connections to finish their close handshakes before they
    /// abort the rest (5 s).</summary>
    public TimeSpan DrainTimeout
    {
        get => ReactorOptions.DrainTimeout;
        set => ReactorOptions = ReactorOptions with { DrainTimeout = value };
    }

    /// <summary>Where the server logs its events (listening, refused handshakes, failed and aborted connections,
    /// timeouts, loop failures, shutdown), under the category <c>WsGen.WebSocketServer</c>; nothing is logged per
    /// message. None when null (the default).</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Creates the server's <see cref="Meter"/> named <c>WsGen</c> (the host's factory, when hosted); when
    /// null the server creates the meter itself (what <c>dotnet-counters monitor --counters WsGen</c> reads).</summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Joins this server's pub/sub topics to other servers' through a message broker (see
    /// <see cref="WebSocketBackplane"/>: WsGen.Redis, WsGen.Nats), or null (the default) for this server alone. The
    /// server starts and stops it; one backplane serves one server.</summary>
    public WebSocketBackplane? Backplane { get; set; }

    /// <summary>Creates the loop, when set; it wins over <see cref="Loop"/> (tests plug a fake or a failing loop in here).</summary>
    internal Func<IConnectionHandler, ReactorOptions, IServerReactor>? CreateReactor { get; set; }

    /// <summary>The engine of permessage-deflate (zlib where it loads; tests run the DeflateStream fallback here).</summary>
    internal WsGen.Protocol.DeflateEngine DeflateEngine { get; set; } = WsGen.Protocol.DeflateEngines.Default;

    /// <summary>Every setting of the loop; the public properties above are views of it.</summary>
    internal ReactorOptions ReactorOptions { get; set; } = new();

    /// <summary>The loop settings the server runs with: <see cref="ReactorOptions"/>, with the pause threshold lowered
    /// to <see cref="MaxBackpressure"/> when it was above it.</summary>
    internal ReactorOptions EffectiveReactorOptions =>
        ReactorOptions.MaxBackpressure < 0 || ReactorOptions.PauseReadingThreshold <= ReactorOptions.MaxBackpressure ? ReactorOptions
        : ReactorOptions with { PauseReadingThreshold = (int)ReactorOptions.MaxBackpressure };
}

/// <summary>Settings of one endpoint.</summary>
public sealed class WebSocketEndpointOptions
{
    /// <summary>Largest message (after reassembly of fragments), in bytes; larger fails the connection with 1009.</summary>
    public long MaxMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Open connections of this endpoint; the next handshake gets 503.</summary>
    public int MaxConnections { get; set; } = int.MaxValue;

    /// <summary>Subprotocols this endpoint speaks, by preference; the first one the client also offers is chosen.
    /// When the client offers some and none match, the handshake still succeeds without a subprotocol.</summary>
    public IReadOnlyList<string> SubProtocols { get; set; } = [];

    /// <summary>Checks the Origin header (null when absent); false refuses the handshake with 403.</summary>
    public Func<string?, bool>? CheckOrigin { get; set; }

    /// <summary>Decides on each upgrade request before the connection is accepted (authentication, per-connection
    /// state, refusals with any status): see <see cref="WebSocketUpgradeHandler"/>. Runs after the protocol checks and
    /// <see cref="CheckOrigin"/>. A generated endpoint's <c>OnUpgrade</c> method is wired here.</summary>
    public WebSocketUpgradeHandler? OnUpgrade { get; set; }

    /// <summary>Overrides the server's <see cref="WebSocketServerOptions.IdleTimeout"/> for this endpoint.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Topics every connection of this endpoint is subscribed to when it opens, before OnOpen runs (see
    /// <see cref="WebSocketConnection.Subscribe"/>).</summary>
    public IReadOnlyList<string> Topics { get; set; } = [];

    /// <summary>Bytes that may wait for a subscriber's socket before a message published to it meets
    /// <see cref="SlowSubscribers"/> (1 MiB). Keep it well below <see cref="WebSocketServerOptions.MaxBackpressure"/>,
    /// past which a connection is aborted: a subscriber that stops reading then costs at most this much memory, and
    /// slows neither the publisher nor the other subscribers.</summary>
    public int PublishLimit { get; set; } = 1024 * 1024;

    /// <summary>What a published message does to a subscriber past its <see cref="PublishLimit"/>:
    /// <see cref="SlowSubscriberPolicy.Drop"/> (the default) or <see cref="SlowSubscriberPolicy.Close"/>.</summary>
    public SlowSubscriberPolicy SlowSubscribers { get; set; } = SlowSubscriberPolicy.Drop;

    /// <summary>Buffers for frames split across reads (and for the frames handed to handlers that own them); when
    /// null, buffers come from the shared <see cref="System.Buffers.ArrayPool{T}"/>.</summary>
    public IBytePool? FramePool { get; set; }

    /// <summary>permessage-deflate (RFC 7692) for this endpoint's connections whose client offers it; Off (the default)
    /// declines it. Generated endpoints start with the attribute's <see cref="WebSocketEndpointAttribute.Compression"/>;
    /// a value set here (see <see cref="WebSocketServer.GetEndpointOptions"/>) overrides it. Needs the platform's zlib
    /// (Linux and macOS have it); without it the extension is declined.</summary>
    public WebSocketCompression Compression
    {
        get => _compression;
        set
        {
            if (!Enum.IsDefined(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "Not a WebSocketCompression.");
            _compression = value;
        }
    }

    /// <summary>Messages shorter than this many bytes are sent uncompressed (compressing them would gain little).</summary>
    public int CompressionThreshold
    {
        get => _compressionThreshold;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _compressionThreshold = value;
        }
    }

    /// <summary>In <see cref="WebSocketCompression.Dedicated"/> mode, the LZ77 window of each direction, 9 to 15 bits
    /// (the client is asked for it when it can be): a smaller window costs less memory per connection and less CPU per
    /// message, and compresses less (see <see cref="WebSocketCompression.Dedicated"/> for the sizes). The default, 12,
    /// sends about 15% more bytes than 15 on the bench's JSON-like messages of 1 KiB for a quarter of the deflate time
    /// and an eighth of the deflater's memory (bench/results/deflate-params.md).</summary>
    public int CompressionWindowBits
    {
        get => _compressionWindowBits;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 9);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 15);
            _compressionWindowBits = value;
        }
    }

    private WebSocketCompression _compression;
    private int _compressionThreshold = 64;
    private int _compressionWindowBits = 12;
}
