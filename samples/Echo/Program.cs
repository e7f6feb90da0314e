// The echo sample: serves ws://127.0.0.1:9001/ on any path and echoes text and binary messages up to 64 MiB.
//   dotnet run -c Release --project samples/Echo [-- --port N] [--reactor epoll|io_uring|sockets] [--loops N] [--hand-wired] [--stats]
//                                                [--deflate shared|dedicated] [--tls-cert CERT.pem --tls-key KEY.pem] [--upgrade-hook]
// --upgrade-hook wires the endpoint by hand (as --hand-wired) with a trivial synchronous upgrade hook that accepts every
// handshake: bench/ measures what a hook costs per handshake against --hand-wired.
// --tls-cert and --tls-key serve wss:// instead, with that certificate chain and private key (PEM files).
// --loops N runs N loops, one per CPU, all on the port; the echo endpoint keeps no state, so that is safe.
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Echo;
using WsGen;

int port = 9001;
var loop = WebSocketLoop.Default;
bool stats = false;
int loops = 1;
bool handWired = false;
bool upgradeHook = false;
string? tlsCert = null, tlsKey = null;
var compression = WebSocketCompression.Off;   // --deflate: permessage-deflate, set at run time over the attribute's default
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out port) && port is >= 0 and <= IPEndPoint.MaxPort:
            i++;
            break;
        case "--reactor" when i + 1 < args.Length:
            string name = args[++i];
            WebSocketLoop? named = name.ToLowerInvariant() switch
            {
                "io_uring" or "iouring" => WebSocketLoop.IoUring,
                "epoll" => WebSocketLoop.Epoll,
                "kqueue" => WebSocketLoop.Kqueue,
                "iocp" => WebSocketLoop.Iocp,
                "sockets" => WebSocketLoop.Sockets,
                _ => null,
            };
            if (named is null)
            {
                Console.Error.WriteLine($"Echo: Unknown reactor '{name}': use io_uring, epoll, kqueue, iocp or sockets.");
                return 1;
            }
            loop = named.Value;
            break;
        case "--loops" when i + 1 < args.Length && int.TryParse(args[i + 1], out loops):
            i++;
            break;
        case "--hand-wired":
            handWired = true;
            break;
        case "--upgrade-hook":
            handWired = upgradeHook = true;
            break;
        case "--stats":
            stats = true;
            break;
        case "--deflate" when i + 1 < args.Length && args[i + 1] is "shared" or "dedicated":
            compression = args[++i] == "shared" ? WebSocketCompression.Shared : WebSocketCompression.Dedicated;
            break;
        case "--tls-cert" when i + 1 < args.Length:
            tlsCert = args[++i];
            break;
        case "--tls-key" when i + 1 < args.Length:
            tlsKey = args[++i];
            break;
        default:
            Console.Error.WriteLine("usage: Echo [--port N] [--reactor epoll|io_uring|sockets] [--loops N] [--hand-wired] [--stats] [--deflate shared|dedicated] [--tls-cert CERT.pem --tls-key KEY.pem] [--upgrade-hook]");
            return 2;
    }
}

var options = new WebSocketServerOptions
{
    EndPoint = new IPEndPoint(IPAddress.Loopback, port),
    Loop = loop,
    Loops = loops,
};

// wss://: the certificate chain and key from PEM files, both or neither.
if ((tlsCert is null) != (tlsKey is null))
{
    Console.Error.WriteLine("Echo: --tls-cert and --tls-key go together.");
    return 2;
}
string scheme = tlsCert is null ? "ws" : "wss";
try
{
    if (tlsCert is not null)
        options.Tls = WebSocketTlsOptions.FromPemFiles(tlsCert, tlsKey!);
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
{
    Console.Error.WriteLine($"Echo: cannot load the TLS certificate: {e.Message}");
    return 1;
}
// The generated path (WsGenApp, emitted from [WebSocketEndpoint]) unless --hand-wired asks for Map, for comparison.
using var server = handWired ? new WebSocketServer(options) : WsGenApp.CreateServer(options);
if (handWired)
{
    server.Map("*", new EchoEndpoint(), new WebSocketEndpointOptions
    {
        MaxMessageSize = EchoEndpoint.MaxMessageSize,
        OnUpgrade = upgradeHook ? static _ => new(WebSocketUpgradeDecision.Accept()) : null,
    });
}
// permessage-deflate: the run-time option overrides the attribute (Off), for the generated and hand-wired paths alike.
server.GetEndpointOptions("*").Compression = compression;

using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });

try
{
    server.Start();
}
catch (Exception e) when (e is SocketException or ArgumentException or InvalidOperationException or PlatformNotSupportedException)
{
    // The port is taken, or the options name a loop this machine does not have: say so, without a stack trace.
    Console.Error.WriteLine($"Echo: cannot serve {scheme}://{options.EndPoint}/: {e.Message}");
    return 1;
}

Console.WriteLine($"WsGen echo listening on {scheme}://{server.LocalEndPoint}/ ({server.ReactorName}, {server.LoopCount} loop{(server.LoopCount == 1 ? "" : "s")})");
if (stats)
{
    var statsThread = new Thread(() =>
    {
        long lastMessages = -1;
        int lastConnections = -1;
        while (!stop.Token.WaitHandle.WaitOne(1000))
        {
            // live= is the managed heap after a full collection, taken only when the server is still (no message and
            // no connection came or went in the last second), so that bench/ can split idle memory into managed and
            // native; -1 otherwise.
            long messages = EchoEndpoint.Messages;
            int connections = server.ConnectionCount;
            long live = messages == lastMessages && connections == lastConnections ? GC.GetTotalMemory(forceFullCollection: true) : -1;
            (lastMessages, lastConnections) = (messages, connections);
            var gc = GC.GetGCMemoryInfo();
            Console.WriteLine($"stats messages={messages} allocated={GC.GetTotalAllocatedBytes(false)} heap={gc.HeapSizeBytes} committed={gc.TotalCommittedBytes} connections={connections} live={live}");
        }
    }) { IsBackground = true };
    statsThread.Start();
}

stop.Token.WaitHandle.WaitOne();
server.Stop();
return 0;
