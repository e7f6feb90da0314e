// The SignalR reference for bench/crossnode.sh: a hub at /hub whose Publish broadcasts to a group, on 127.0.0.1.
// Usage: SignalRChat --port N [--redis HOST:PORT]
// With --redis, nodes on the same Redis share their groups through SignalR's Redis backplane
// (Microsoft.AspNetCore.SignalR.StackExchangeRedis), as WsGen's Chat nodes share rooms with --redis.
using System.Net;
using Microsoft.AspNetCore.SignalR;
using SignalRChat;

int port = -1;
string? redis = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out port) && port is >= 0 and <= IPEndPoint.MaxPort:
            i++;
            break;
        case "--redis" when i + 1 < args.Length:
            redis = args[++i];
            break;
        default:
            port = -1;
            i = args.Length;
            break;
    }
}
if (port < 0)
{
    Console.Error.WriteLine("usage: SignalRChat --port N [--redis HOST:PORT]");
    return 2;
}

WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
ISignalRServerBuilder signalR = builder.Services.AddSignalR();
if (redis is not null)
    signalR.AddStackExchangeRedis(redis);

WebApplication app = builder.Build();
app.MapHub<RoomHub>("/hub");
await app.StartAsync();
Console.WriteLine($"SignalR hub on http://127.0.0.1:{port}/hub{(redis is null ? "" : $" (Redis backplane at {redis})")}");
await app.WaitForShutdownAsync();
return 0;
