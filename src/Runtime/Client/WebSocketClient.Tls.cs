using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace WsGen;

/// <summary>wss://: the TLS handshake of a client connection, before the WebSocket handshake.</summary>
public sealed partial class WebSocketClient
{
    /// <summary>Runs the TLS handshake on the connected <paramref name="socket"/> for <paramref name="uri"/>'s host
    /// (SNI and name check), validating the server's certificate as <paramref name="options"/> say: the callback,
    /// else the trusted roots given, else the system's.</summary>
    private static SslStream AuthenticateTls(Socket socket, Uri uri, WebSocketClientOptions options)
    {
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = uri.IdnHost,
            RemoteCertificateValidationCallback = options.ValidateServerCertificate,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (options.ValidateServerCertificate is null && options.TrustedRootCertificates is { Count: > 0 } roots)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(roots);
            authentication.CertificateChainPolicy = policy;
        }

        try
        {
            ssl.AuthenticateAsClient(authentication);
        }
        catch
        {
            ssl.Dispose();
            throw;
        }

        return ssl;
    }
}
