// The chat sample: a page at http://127.0.0.1:9002/ and a room at ws://127.0.0.1:9002/chat that broadcasts every
// message to every member.   dotnet run -c Release --project samples/Chat [-- --port N]
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using WsGen;
using Chat;

int port = 9002;
if (args is ["--port", var p] && int.TryParse(p, out var parsed) && parsed is >= 0 and <= IPEndPoint.MaxPort)
    port = parsed;
else if (args.Length != 0)
{
    Console.Error.WriteLine("usage: Chat [--port N]");
    return 2;
}

using var server = WsGenApp.CreateServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, port) });
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
