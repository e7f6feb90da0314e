using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WsGen.Tests;

/// <summary>
/// A test CA made when the tests run (never committed): a root, and a server certificate it signed for localhost and
/// 127.0.0.1, also written as PEM files for peers in other processes (npm ws, Python, the samples, Chromium).
/// </summary>
internal static class TestCertificates
{
    private static readonly Lazy<Material> s_material = new(Create);

    /// <summary>The test CA's root (public part only).</summary>
    public static X509Certificate2 Ca => s_material.Value.Ca;

    /// <summary>The server's certificate for localhost and 127.0.0.1, with its key, signed by <see cref="Ca"/>.</summary>
    public static X509Certificate2 Server => s_material.Value.Server;

    /// <summary>A client certificate signed by <see cref="Ca"/>, with its key (for client-certificate tests).</summary>
    public static X509Certificate2 Client => s_material.Value.Client;

    /// <summary>A directory holding ca.pem, server.pem (certificate) and server.key (key), for other processes.</summary>
    public static string Directory => s_material.Value.Directory;

    public static string CaPem => Path.Combine(Directory, "ca.pem");

    public static string ServerCertificatePem => Path.Combine(Directory, "server.pem");

    public static string ServerKeyPem => Path.Combine(Directory, "server.key");

    /// <summary>Server TLS options with the test server certificate.</summary>
    public static WebSocketTlsOptions ServerOptions() => new() { Certificate = Server };

    /// <summary>True when <paramref name="certificate"/> chains to the test CA (for clients that trust it).</summary>
    public static bool ChainsToCa(X509Certificate? certificate)
    {
        if (certificate is null)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private sealed record Material(X509Certificate2 Ca, X509Certificate2 Server, X509Certificate2 Client, string Directory);

    private static Material Create()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=WsGen Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var caWithKey = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        var server = Issue(caWithKey, "CN=localhost", serverAuth: true, now);
        var client = Issue(caWithKey, "CN=WsGen test client", serverAuth: false, now);

        string directory = Path.Combine(Path.GetTempPath(), $"wsgen-tls-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "ca.pem"), caWithKey.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "server.pem"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "server.key"), server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        var ca = X509CertificateLoader.LoadCertificate(caWithKey.RawData);
        return new Material(ca, server, client, directory);
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, bool serverAuth, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (serverAuth)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        // Inside the CA's validity, which began a day before now and ends in 30 days.
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(ca, now.AddHours(-1), now.AddDays(29), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        // Through PKCS#12 so that the key is usable by every platform's TLS engine.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
