namespace KestrelEcho;

/// <summary>Command-line options: <c>--port N</c> (required), <c>--stats</c>, <c>--deflate</c>, and <c>--tls-cert
/// CERT.pem --tls-key KEY.pem</c> for HTTPS (wss://).</summary>
/// <param name="Port">The TCP port to listen on at 127.0.0.1.</param>
/// <param name="PrintStats">Whether to print a <c>stats</c> line to stdout once a second.</param>
/// <param name="Deflate">Whether to accept permessage-deflate (DangerousEnableCompression).</param>
/// <param name="TlsCertificate">The PEM certificate chain for HTTPS, or null for plain HTTP.</param>
/// <param name="TlsKey">The PEM private key for HTTPS, or null.</param>
internal readonly record struct EchoOptions(int Port, bool PrintStats, bool Deflate = false, string? TlsCertificate = null, string? TlsKey = null)
{
    /// <summary>Parses the arguments; returns false on an unknown or malformed argument.</summary>
    public static bool TryParse(string[] args, out EchoOptions options)
    {
        int port = 0;
        bool stats = false;
        bool deflate = false;
        string? tlsCertificate = null, tlsKey = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out port) && port is > 0 and < 65536:
                    i++;
                    break;
                case "--stats":
                    stats = true;
                    break;
                case "--deflate":
                    deflate = true;
                    break;
                case "--tls-cert" when i + 1 < args.Length:
                    tlsCertificate = args[++i];
                    break;
                case "--tls-key" when i + 1 < args.Length:
                    tlsKey = args[++i];
                    break;
                default:
                    options = default;
                    return false;
            }
        }

        options = new EchoOptions(port, stats, deflate, tlsCertificate, tlsKey);
        return port != 0 && (tlsCertificate is null) == (tlsKey is null);
    }
}
