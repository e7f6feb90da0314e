using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using WsGen.Transport;

namespace WsGen;

/// <summary>
/// TLS (wss://) for a listener of a <see cref="WebSocketServer"/> (<see cref="WebSocketServerOptions.Tls"/>): the
/// server's certificate, or one per host name (SNI), the protocol versions and client certificates. TLS runs on the
/// server's loops, through .NET's <see cref="SslStream"/>.
/// </summary>
/// <remarks>The TLS handshake counts in <see cref="WebSocketServerOptions.HandshakeTimeout"/>: the handshake and the
/// upgrade request together must arrive within it, otherwise the connection is closed.</remarks>
/// <example>
/// <code>
/// var options = new WebSocketServerOptions { Tls = WebSocketTlsOptions.FromPemFiles("cert.pem", "key.pem") };
/// </code>
/// </example>
public sealed class WebSocketTlsOptions
{
    private SslStreamCertificateContext? _context;

    /// <summary>The server's certificate, with its private key; unused when <see cref="SelectCertificate"/> is
    /// set.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Intermediate certificates sent after <see cref="Certificate"/> (the chain up to, not including, the
    /// root); empty by default.</summary>
    public X509Certificate2Collection Chain { get; set; } = [];

    /// <summary>Picks the certificate for the host name the client asked for (SNI; null when it sent none); null
    /// refuses the handshake. Called once per handshake, on the loop thread: keep it quick.</summary>
    public Func<string?, X509Certificate2?>? SelectCertificate { get; set; }

    /// <summary>The TLS versions spoken: TLS 1.2 and TLS 1.3 by default.</summary>
    public SslProtocols Protocols { get; set; } = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>Asks the client for a certificate. Without <see cref="ValidateClientCertificate"/> a client
    /// without a valid one is refused; with it, the callback decides (so client certificates can be optional).</summary>
    public bool ClientCertificateRequired { get; set; }

    /// <summary>Decides whether the client's certificate (null when it sent none) is accepted.</summary>
    public RemoteCertificateValidationCallback? ValidateClientCertificate { get; set; }

    /// <summary>Handshakes that may run at once on this listener, over every loop (1024); a connection beyond it is
    /// closed at its first bytes, so that a flood of slow ClientHellos cannot take the server's memory.</summary>
    public int MaxConcurrentHandshakes { get; set; } = 1024;

    /// <summary>TLS with the certificate chain of <paramref name="certificatePath"/> (PEM: the server's certificate
    /// first, then intermediates) and the private key of <paramref name="keyPath"/> (PEM).</summary>
    public static WebSocketTlsOptions FromPemFiles(string certificatePath, string keyPath)
    {
        ArgumentNullException.ThrowIfNull(certificatePath);
        ArgumentNullException.ThrowIfNull(keyPath);
        var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(certificatePath);
        var chain = new X509Certificate2Collection();
        foreach (var cert in all)
        {
            if (cert.Thumbprint != certificate.Thumbprint)
                chain.Add(cert);
        }

        return new WebSocketTlsOptions { Certificate = certificate, Chain = chain };
    }

    /// <summary>The listener state the loops share, checked and built once, when the server starts.</summary>
    internal TlsListener CreateListener()
    {
        if (Certificate is null && SelectCertificate is null)
            throw new InvalidOperationException("TLS needs a Certificate or a SelectCertificate callback.");
        if (MaxConcurrentHandshakes < 1)
            throw new InvalidOperationException("MaxConcurrentHandshakes must be at least 1.");
        var options = new SslServerAuthenticationOptions
        {
            EnabledSslProtocols = Protocols,
            ClientCertificateRequired = ClientCertificateRequired,
            RemoteCertificateValidationCallback = ValidateClientCertificate,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (SelectCertificate is { } select)
            options.ServerCertificateSelectionCallback = (_, hostName) => select(string.IsNullOrEmpty(hostName) ? null : hostName)!;
        else
            options.ServerCertificateContext = _context ??= SslStreamCertificateContext.Create(Certificate!, Chain, offline: true);
        return new TlsListener(options, MaxConcurrentHandshakes);
    }
}
