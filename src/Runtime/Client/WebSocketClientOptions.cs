using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace WsGen;

/// <summary>Settings of a <see cref="WebSocketClient"/>.</summary>
public sealed class WebSocketClientOptions
{
    /// <summary>Subprotocols to offer, by preference.</summary>
    public IReadOnlyList<string> SubProtocols { get; set; } = [];

    /// <summary>The Origin header to send, or null for none.</summary>
    public string? Origin { get; set; }

    /// <summary>Largest message accepted from the server; larger fails the connection with 1009.</summary>
    public long MaxMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>Time allowed for the TCP connection and the opening handshake together.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long <see cref="WebSocketClient.Close()"/> waits for the server's close frame and FIN.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>wss://: roots to trust instead of the system's (a private CA); the server's certificate must chain to
    /// one of them and name the host. Unused when <see cref="ValidateServerCertificate"/> is set; empty (the system's
    /// roots) by default.</summary>
    public X509Certificate2Collection TrustedRootCertificates { get; set; } = [];

    /// <summary>wss://: decides whether the server's certificate is accepted, instead of the normal validation (which
    /// the callback sees the outcome of in its <see cref="SslPolicyErrors"/>).</summary>
    public RemoteCertificateValidationCallback? ValidateServerCertificate { get; set; }

    /// <summary>permessage-deflate (RFC 7692), offered when not Off: Shared offers no context takeover in either
    /// direction (each message compressed on its own), Dedicated offers context takeover. The client takes what the
    /// server agrees (see <see cref="WebSocketClient.IsCompressed"/>); messages under 64 bytes go uncompressed.
    /// Needs the platform's zlib; without it nothing is offered.</summary>
    public WebSocketCompression Compression { get; set; }

    /// <summary>The engine of permessage-deflate (zlib where it loads; tests run the DeflateStream fallback here).</summary>
    internal WsGen.Protocol.DeflateEngine DeflateEngine { get; set; } = WsGen.Protocol.DeflateEngines.Default;
}

/// <summary>The connection failed: the peer broke the protocol (with the close code WsGen sent),
/// or the connection dropped (1006).</summary>
public sealed class WebSocketProtocolException(WebSocketCloseCode code, string message) : Exception(message)
{
    /// <summary>The close code that describes the failure.</summary>
    public WebSocketCloseCode Code { get; } = code;
}
