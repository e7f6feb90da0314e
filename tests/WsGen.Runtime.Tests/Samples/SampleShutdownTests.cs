using System.Net.WebSockets;
using System.Text;

namespace WsGen.Tests.Samples;

/// <summary>The plain samples stop gracefully on SIGTERM (systemd, Kubernetes) and SIGINT (Ctrl+C): every client gets a
/// close frame with 1001 (going away), and the process exits with 0 once the close handshakes are done.</summary>
public sealed class SampleShutdownTests
{
    [Theory]
    [InlineData("Echo", "/any", "TERM")]
    [InlineData("Echo", "/any", "INT")]
    [InlineData("Chat", "/chat", "TERM")]
    [InlineData("Chat", "/chat", "INT")]
    public async Task A_signal_closes_every_client_with_1001_and_exits_with_0(string sample, string path, string signal)
    {
        using var process = SampleProcess.Start(sample);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var clients = new List<ClientWebSocket>();
        for (int i = 0; i < 3; i++)
        {
            var client = new ClientWebSocket();
            client.Options.KeepAliveInterval = TimeSpan.Zero;
            await client.ConnectAsync(new Uri($"ws://{process.EndPoint}{path}"), cts.Token);
            clients.Add(client);
        }
        // A message goes through first: the clients are served, not merely connected.
        await clients[0].SendAsync("before the signal"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
        var buffer = new byte[1024];
        var first = await clients[0].ReceiveAsync(buffer, cts.Token);
        Assert.Contains("before the signal", Encoding.UTF8.GetString(buffer, 0, first.Count));

        process.Signal(signal);

        foreach (var client in clients)
        {
            WebSocketReceiveResult result;
            do
                result = await client.ReceiveAsync(buffer, cts.Token);
            while (result.MessageType != WebSocketMessageType.Close);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, result.CloseStatus);
            await client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "", cts.Token);
            client.Dispose();
        }
        Assert.Equal(0, process.WaitForExit(TimeSpan.FromSeconds(15)));
    }
}
