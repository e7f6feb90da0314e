// The echo sample: serves ws://127.0.0.1:9001/ on any path and echoes text and binary messages up to 64 MiB.
//   dotnet run -c Release --project samples/Echo [-- --port N] [--reactor io_uring|epoll|sockets] [--stats]
using System.Net;
using System.Runtime.InteropServices;
using Echo;
using WsGen;

int port = 9001;
string? reactor = null;
bool stats = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out port):
            i++;
            break;
        case "--reactor" when i + 1 < args.Length:
            reactor = args[++i];
            break;
        case "--stats":
            stats = true;
            break;
        default:
            Console.Error.WriteLine("usage: Echo [--port N] [--reactor io_uring|epoll|sockets] [--stats]");
            return 2;
    }
}

var echo = new EchoEndpoint();
using var server = new WebSocketServer(new WebSocketServerOptions
{
    EndPoint = new IPEndPoint(IPAddress.Loopback, port),
    Reactor = reactor,
});
server.Map("*", echo, new WebSocketEndpointOptions { MaxMessageSize = 64 * 1024 * 1024 });

using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });

if (stats)
{
    var statsThread = new Thread(() =>
    {
        while (!stop.Token.WaitHandle.WaitOne(1000))
            {
            var gc = GC.GetGCMemoryInfo();
            Console.WriteLine($"stats messages={echo.Messages} allocated={GC.GetTotalAllocatedBytes(false)} heap={gc.HeapSizeBytes} committed={gc.TotalCommittedBytes} connections={server.ConnectionCount}");
        }
    }) { IsBackground = true };
    statsThread.Start();
}

server.Start();
Console.WriteLine($"WsGen echo listening on ws://{server.LocalEndPoint}/ ({server.ReactorName})");
stop.Token.WaitHandle.WaitOne();
server.Stop();
return 0;
