// The chat sample: a page at http://127.0.0.1:9002/ and rooms at ws://127.0.0.1:9002/chat (the lobby, or the room a
// "/join NAME" message names) that broadcast every message to every member, on pub/sub topics.
//   dotnet run -c Release --project samples/Chat [-- --port N] [--loops N]
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using WsGen;
using Chat;

int port = 9002, loops = 1;
for (int i = 0; i < args.Length; i += 2)
{
    int value = 0;
    bool isNumber = i + 1 < args.Length && int.TryParse(args[i + 1], out value);
    if (isNumber && args[i] == "--port" && value is >= 0 and <= IPEndPoint.MaxPort)
        port = value;
    else if (isNumber && args[i] == "--loops" && value is >= 1 and <= 1024)
        loops = value;
    else
    {
        Console.Error.WriteLine("usage: Chat [--port N] [--loops N]");
        return 2;
    }
}

using var server = WsGenApp.CreateServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, port), Loops = loops });
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
    Console.Error.WriteLine($"Chat: cannot serve http://127.0.0.1:{port}/: {e.Message}");
    return 1;
}

Console.WriteLine($"WsGen chat on http://{server.LocalEndPoint}/ (room at ws://{server.LocalEndPoint}/chat, {server.ReactorName})");
stop.Token.WaitHandle.WaitOne();
server.Stop();
return 0;
