using System.Net;
using System.Text;

namespace WsGen.Tests.Server;

public sealed class StaticPageTests
{
    [Theory]
    [MemberData(nameof(Reactors))]
    public void PlainGet_GetsThePage_AndAnUpgradeAtTheSamePathStillWorks(string reactor)
    {
        var options = TestServers.OptionsFor(reactor, new IPEndPoint(IPAddress.Loopback, 0));
        using var server = new WebSocketServer(options);
        server.Map("/", new Echo.EchoEndpoint());
        server.MapPage("/", "text/html; charset=utf-8", "<p>héllo</p>"u8);
        server.Start();

        using (var browser = RawWebSocket.ConnectTcp(server.LocalEndPoint!))
        {
            browser.SendText("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n\r\n");
            var head = browser.ReadHttpHead();
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", head);
            Assert.Contains("Content-Type: text/html; charset=utf-8\r\n", head);
            Assert.Contains($"Content-Length: {"<p>héllo</p>"u8.Length}\r\n", head);
            Assert.Contains("Connection: close\r\n", head);
        }

        using (var noPage = RawWebSocket.ConnectTcp(server.LocalEndPoint!))
        {
            noPage.SendText("GET /other HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 404 ", noPage.ReadHttpHead());
        }

        using var client = WebSocketClient.Connect(server.Url("/"));
        client.SendText("still a websocket");
        var frame = client.ReadFrame();
        Assert.Equal("still a websocket", Encoding.UTF8.GetString(frame.Payload.Span));
        frame.Release();
    }

    public static TheoryData<string> Reactors => TestServers.Loops;
}
