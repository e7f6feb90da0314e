// Kestrel baseline for bench/run.sh: an ASP.NET Core WebSocket echo server on 127.0.0.1.
// Usage: KestrelEcho --port N [--stats] [--deflate] [--tls-cert CERT.pem --tls-key KEY.pem]
// With --tls-cert and --tls-key it serves wss:// (Kestrel's HTTPS, SslStream per connection).
using System.Net;
using System.Security.Cryptography.X509Certificates;
using KestrelEcho;

if (!EchoOptions.TryParse(args, out EchoOptions options))
{
    Console.Error.WriteLine("usage: KestrelEcho --port N [--stats] [--deflate] [--tls-cert CERT.pem --tls-key KEY.pem]");
    return 2;
}

// The slim builder is the lean host the ASP.NET Core docs recommend for small services:
// Kestrel without HTTPS/HTTP3 setup, configuration from environment only. Arguments are not
// handed to the configuration system; they are this program's own.
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
if (options.TlsCertificate is null)
{
    builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));
}
else
{
    // The slim builder leaves HTTPS out until asked for.
    builder.WebHost.UseKestrelHttpsConfiguration();
    var certificate = X509Certificate2.CreateFromPemFile(options.TlsCertificate, options.TlsKey);
    builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port, listen => listen.UseHttps(certificate)));
}

EchoEndpoint.Deflate = options.Deflate;
WebApplication app = builder.Build();
app.UseWebSockets();
app.Run(EchoEndpoint.HandleAsync);

if (options.PrintStats)
{
    _ = EchoStats.PrintEverySecondAsync(app.Lifetime.ApplicationStopping);
}

await app.RunAsync();
return 0;
