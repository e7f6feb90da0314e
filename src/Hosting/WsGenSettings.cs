using System.Net;

namespace WsGen;

/// <summary>
/// The <c>WsGen</c> configuration section (appsettings.json, environment variables such as <c>WsGen__Port</c>, the
/// command line): the run-time settings of a hosted server. A key that is absent leaves the value the server had
/// (the <c>[WebSocketEndpoint]</c> attributes' values for the generated server, else the defaults of
/// <see cref="WebSocketServerOptions"/>); a key that is present overrides it.
/// </summary>
/// <remarks>Bound by the configuration-binding source generator; checked at start by <see cref="WsGenSettingsValidator"/>.</remarks>
internal sealed class WsGenSettings
{
    /// <summary>The configuration section's name.</summary>
    public const string SectionName = "WsGen";

    /// <summary>The address to listen on: an IP address, or <c>localhost</c> (127.0.0.1).</summary>
    public string? Address { get; set; }

    /// <summary>The port to listen on; 0 picks a free one.</summary>
    public int? Port { get; set; }

    /// <summary>The loop: <c>default</c>, <c>io_uring</c>, <c>epoll</c>, <c>kqueue</c>, <c>iocp</c> or <c>sockets</c>.</summary>
    public string? Loop { get; set; }

    /// <summary>See <see cref="WebSocketServerOptions.Loops"/>.</summary>
    public int? Loops { get; set; }

    /// <summary>See <see cref="WebSocketServerOptions.HandshakeTimeout"/>.</summary>
    public TimeSpan? HandshakeTimeout { get; set; }

    /// <summary>See <see cref="WebSocketServerOptions.IdleTimeout"/>.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>See <see cref="WebSocketServerOptions.CloseTimeout"/>.</summary>
    public TimeSpan? CloseTimeout { get; set; }

    /// <summary>See <see cref="WebSocketServerOptions.DrainTimeout"/> (never more than the host's shutdown timeout).</summary>
    public TimeSpan? DrainTimeout { get; set; }

    /// <summary>See <see cref="WebSocketServerOptions.MaxHandshakeBytes"/>.</summary>
    public int? MaxHandshakeBytes { get; set; }

    /// <summary>See <see cref="WebSocketServerOptions.MaxHeaderCount"/>.</summary>
    public int? MaxHeaderCount { get; set; }

    /// <summary>See <see cref="WebSocketServerOptions.MaxConnections"/>.</summary>
    public int? MaxConnections { get; set; }

    /// <summary>See <see cref="WebSocketServerOptions.ReceiveBufferSize"/>.</summary>
    public int? ReceiveBufferSize { get; set; }

    /// <summary>See <see cref="WebSocketServerOptions.PauseReadingThreshold"/>.</summary>
    public int? PauseReadingThreshold { get; set; }

    /// <summary>See <see cref="WebSocketServerOptions.MaxBackpressure"/>.</summary>
    public long? MaxBackpressure { get; set; }

    /// <summary>The loop names of the configuration, as <c>WSGEN_REACTOR</c> spells them.</summary>
    internal static readonly IReadOnlyDictionary<string, WebSocketLoop> LoopNames = new Dictionary<string, WebSocketLoop>(StringComparer.OrdinalIgnoreCase)
    {
        ["default"] = WebSocketLoop.Default,
        ["io_uring"] = WebSocketLoop.IoUring,
        ["epoll"] = WebSocketLoop.Epoll,
        ["kqueue"] = WebSocketLoop.Kqueue,
        ["iocp"] = WebSocketLoop.Iocp,
        ["sockets"] = WebSocketLoop.Sockets,
    };

    /// <summary>Parses <see cref="Address"/>; false when it is neither an IP address nor <c>localhost</c>.</summary>
    internal static bool TryParseAddress(string text, out IPAddress address)
    {
        if (string.Equals(text, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
            return true;
        }
        return IPAddress.TryParse(text, out address!);
    }

    /// <summary>Puts every configured value on <paramref name="options"/> (validated already).</summary>
    internal void ApplyTo(WebSocketServerOptions options)
    {
        if (Address is not null || Port is not null)
        {
            var address = Address is null ? options.EndPoint.Address : TryParseAddress(Address, out var parsed) ? parsed : throw new FormatException(Address);
            options.EndPoint = new IPEndPoint(address, Port ?? options.EndPoint.Port);
        }
        if (Loop is not null)
            options.Loop = LoopNames[Loop];
        if (Loops is { } loops)
            options.Loops = loops;
        if (HandshakeTimeout is { } handshake)
            options.HandshakeTimeout = handshake;
        if (IdleTimeout is { } idle)
            options.IdleTimeout = idle;
        if (CloseTimeout is { } close)
            options.CloseTimeout = close;
        if (DrainTimeout is { } drain)
            options.DrainTimeout = drain;
        if (MaxHandshakeBytes is { } headBytes)
            options.MaxHandshakeBytes = headBytes;
        if (MaxHeaderCount is { } headers)
            options.MaxHeaderCount = headers;
        if (MaxConnections is { } connections)
            options.MaxConnections = connections;
        if (ReceiveBufferSize is { } receive)
            options.ReceiveBufferSize = receive;
        if (PauseReadingThreshold is { } pause)
            options.PauseReadingThreshold = pause;
        if (MaxBackpressure is { } backpressure)
            options.MaxBackpressure = backpressure;
    }
}
