// The chat sample: a page at http://127.0.0.1:9002/ and rooms at ws://127.0.0.1:9002/chat (the lobby, or the room a
// "/join NAME" message names) that broadcast every message to every member, on pub/sub topics.
//   dotnet run -c Release --project samples/Chat [-- --port N] [--loops N] [--tls-cert CERT.pem --tls-key KEY.pem] [--token T]
//                                                [--redis HOST:PORT | --nats URL]
// --tls-cert and --tls-key serve the page over https and the rooms on wss, with that certificate chain and key (PEM).
// --token T: the room refuses (401) a handshake without ?token=T or Authorization: Bearer T; open the page as /?token=T.
// --redis HOST:PORT or --nats URL joins this node to a cluster: every node on the same broker shares the rooms (the
// README's "Scale-out" section), e.g. two nodes: --port 9002 --redis 127.0.0.1:6379 and --port 9012 --redis 127.0.0.1:6379.
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using WsGen;
using WsGen.Nats;
using WsGen.Redis;
using Chat;

int port = 9002, loops = 1;
string? tlsCert = null, tlsKey = null;
WebSocketBackplane? backplane = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out port) && port is >= 0 and <= IPEndPoint.MaxPort:
            i++;
            break;
        case "--loops" when i + 1 < args.Length && int.TryParse(args[i + 1], out loops) && loops is >= 1 and <= 1024:
            i++;
            break;
        case "--tls-cert" when i + 1 < args.Length:
            tlsCert = args[++i];
            break;
        case "--tls-key" when i + 1 < args.Length:
            tlsKey = args[++i];
            break;
        case "--token" when i + 1 < args.Length && args[i + 1].Length > 0:
            ChatRoom.Token = args[++i];
            break;
        case "--redis" when i + 1 < args.Length && backplane is null && args[i + 1].Length > 0:
            backplane = new RedisBackplane(args[++i]);
            break;
        case "--nats" when i + 1 < args.Length && backplane is null && args[i + 1].Length > 0:
            backplane = new NatsBackplane(args[++i]);
            break;
        default:
            Console.Error.WriteLine("usage: Chat [--port N] [--loops N] [--tls-cert CERT.pem --tls-key KEY.pem] [--token T] [--redis HOST:PORT | --nats URL]");
            return 2;
    }
}

var options = new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, port), Loops = loops, Backplane = backplane };
if ((tlsCert is null) != (tlsKey is null))
{
    Console.Error.WriteLine("Chat: --tls-cert and --tls-key go together.");
    return 2;
}
try
{
    if (tlsCert is not null)
        options.Tls = WebSocketTlsOptions.FromPemFiles(tlsCert, tlsKey!);
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
{
    Console.Error.WriteLine($"Chat: cannot load the TLS certificate: {e.Message}");
    return 1;
}
(string web, string socket) = options.Tls is null ? ("http", "ws") : ("https", "wss");

using var server = WsGenApp.CreateServer(options);
server.MapPage("/", "text/html; charset=utf-8", Encoding.UTF8.GetBytes(ChatPage.Html));

using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
try
{
    server.Start();
}
catch (Exception e) when (e is SocketException or ArgumentException or InvalidOperationException or PlatformNotSupportedException)
{
    Console.Error.WriteLine($"Chat: cannot serve {web}://127.0.0.1:{port}/: {e.Message}");
    return 1;
}

string cluster = backplane switch
{
    RedisBackplane => ", rooms shared through Redis",
    NatsBackplane => ", rooms shared through NATS",
    _ => "",
};
Console.WriteLine($"WsGen chat on {web}://{server.LocalEndPoint}/ (room at {socket}://{server.LocalEndPoint}/chat, {server.ReactorName}{cluster})");
stop.Token.WaitHandle.WaitOne();
server.Stop();
return 0;
