using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

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

    /// <summary>permessage-deflate for every endpoint (<c>Off</c>, <c>Shared</c> or <c>Dedicated</c>, see
    /// <see cref="WebSocketCompression"/>), over the attributes' values; <see cref="Endpoints"/> overrides it by path.</summary>
    public string? Compression { get; set; }

    /// <summary>See <see cref="WebSocketEndpointOptions.CompressionThreshold"/>, for every endpoint.</summary>
    public int? CompressionThreshold { get; set; }

    /// <summary>See <see cref="WebSocketEndpointOptions.CompressionWindowBits"/>, for every endpoint.</summary>
    public int? CompressionWindowBits { get; set; }

    /// <summary>Settings of one endpoint by its path (<c>WsGen:Endpoints:/chat:Compression</c>); they win over the
    /// server-wide ones. A path no endpoint is mapped at fails the start.</summary>
    public Dictionary<string, WsGenEndpointSettings> Endpoints { get; set; } = new(StringComparer.Ordinal);

    /// <summary>TLS (wss://) from PEM files; absent, the server stays plain (unless the code set
    /// <see cref="WebSocketServerOptions.Tls"/>).</summary>
    public WsGenTlsSettings? Tls { get; set; }

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

    /// <summary>Parses a compression mode by its name (<c>Off</c>, <c>Shared</c>, <c>Dedicated</c>, in any case); numbers
    /// and combinations are refused.</summary>
    internal static bool TryParseCompression(string text, out WebSocketCompression mode)
    {
        foreach (var value in Enum.GetValues<WebSocketCompression>())
        {
            if (string.Equals(value.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                mode = value;
                return true;
            }
        }
        mode = default;
        return false;
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
        if (Tls is { CertificatePath: { } certificate, KeyPath: { } key } tls)
        {
            try
            {
                options.Tls = WebSocketTlsOptions.FromPemFiles(certificate, key);
            }
            catch (CryptographicException e)
            {
                throw Invalid($"WsGen:Tls:CertificatePath '{certificate}' and WsGen:Tls:KeyPath '{key}' are not a PEM certificate and its private key: {e.Message}");
            }
            if (tls.Port is { } tlsPort)
                options.TlsEndPoint = new IPEndPoint(options.EndPoint.Address, tlsPort);
        }
    }

    /// <summary>Puts the compression settings on each endpoint of <paramref name="server"/>: the server-wide ones,
    /// then those of the endpoint's path. A configured path that no endpoint is mapped at throws.</summary>
    internal void ApplyTo(WebSocketServer server)
    {
        var paths = server.EndpointPaths.ToHashSet(StringComparer.Ordinal);
        foreach (var path in Endpoints.Keys)
        {
            if (!paths.Contains(path))
                throw Invalid($"WsGen:Endpoints:{path} names no endpoint; the mapped paths are {string.Join(", ", paths)}.");
        }
        foreach (var path in paths)
        {
            var options = server.GetEndpointOptions(path);
            Apply(options, Compression, CompressionThreshold, CompressionWindowBits);
            if (Endpoints.TryGetValue(path, out var endpoint))
                Apply(options, endpoint.Compression, endpoint.CompressionThreshold, endpoint.CompressionWindowBits);
        }
    }

    private static void Apply(WebSocketEndpointOptions options, string? compression, int? threshold, int? windowBits)
    {
        if (compression is not null)
            options.Compression = TryParseCompression(compression, out var mode) ? mode : throw new FormatException(compression);
        if (threshold is { } t)
            options.CompressionThreshold = t;
        if (windowBits is { } w)
            options.CompressionWindowBits = w;
    }

    /// <summary>A failure found while applying the section (one the validator cannot see), reported like its own.</summary>
    private static OptionsValidationException Invalid(string message) => new(SectionName, typeof(WsGenSettings), [message]);
}

/// <summary>Settings of one endpoint, by path, in the <c>WsGen:Endpoints</c> section.</summary>
internal sealed class WsGenEndpointSettings
{
    /// <summary>See <see cref="WsGenSettings.Compression"/>.</summary>
    public string? Compression { get; set; }

    /// <summary>See <see cref="WebSocketEndpointOptions.CompressionThreshold"/>.</summary>
    public int? CompressionThreshold { get; set; }

    /// <summary>See <see cref="WebSocketEndpointOptions.CompressionWindowBits"/>.</summary>
    public int? CompressionWindowBits { get; set; }
}

/// <summary>The <c>WsGen:Tls</c> section: wss:// from PEM files, on the plain listener's port or beside it.</summary>
internal sealed class WsGenTlsSettings
{
    /// <summary>The PEM file of the server's certificate, then its intermediates.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM file of the certificate's private key.</summary>
    public string? KeyPath { get; set; }

    /// <summary>A port for TLS beside the plain listener (same address); absent, the listener of <c>WsGen:Port</c>
    /// serves TLS only.</summary>
    public int? Port { get; set; }
}
