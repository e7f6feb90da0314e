using System.Diagnostics;
using WsGen.Protocol;
using WsGen.Tests.Server;

namespace WsGen.Tests.Deflate;

/// <summary>WsGen's client with permessage-deflate: against WsGen's server on every loop, and against Python's
/// websockets server (another implementation), in both modes; messages of many sizes go out compressed and come back
/// intact.</summary>
public sealed class DeflateClientTests
{
    private static readonly int[] Sizes = [1, 63, 64, 1024, 16384, 65536, 1 << 20];

    [Theory]
    [MemberData(nameof(DeflateInteropTests.LoopsModesAndEngines), MemberType = typeof(DeflateInteropTests))]
    public void WsGen_client_and_server_agree_permessage_deflate_and_echo(string loop, WebSocketCompression mode, string engine)
    {
        using var server = TestServers.StartEcho(loop, options => options.DeflateEngine = TestEngines.Parse(engine),
            new WebSocketEndpointOptions { Compression = mode, MaxMessageSize = 64 << 20 });
        using var client = WebSocketClient.Connect(server.Url(), new WebSocketClientOptions { Compression = mode, DeflateEngine = TestEngines.Parse(engine) });
        Assert.True(client.IsCompressed);
        EchoEverySize(client);
        client.Close();
    }

    [Theory]
    [InlineData(WebSocketCompression.Shared)]
    [InlineData(WebSocketCompression.Dedicated)]
    public void WsGen_client_with_compression_off_offers_nothing_and_still_echoes(WebSocketCompression serverMode)
    {
        using var server = TestServers.StartEcho("epoll", endpoint: new WebSocketEndpointOptions { Compression = serverMode });
        using var client = WebSocketClient.Connect(server.Url());
        Assert.False(client.IsCompressed);
        EchoEverySize(client);
        client.Close();
    }

    [Fact]
    public void A_DeflateStream_client_does_not_offer_to_limit_its_window_and_a_dedicated_server_with_a_small_window_agrees()
    {
        // The server (zlib, dedicated, window 10) asks for client_max_window_bits=10 whenever the offer allows it; the
        // client could not honour it, so its offer must not allow it (Connect fails if the answer names one).
        using var server = TestServers.StartEcho("epoll", endpoint: new WebSocketEndpointOptions { Compression = WebSocketCompression.Dedicated, CompressionWindowBits = 10, MaxMessageSize = 64 << 20 });
        using var client = WebSocketClient.Connect(server.Url(), new WebSocketClientOptions { Compression = WebSocketCompression.Dedicated, DeflateEngine = DeflateEngine.DeflateStream });
        Assert.True(client.IsCompressed);
        EchoEverySize(client);
        client.Close();
    }

    [Fact]
    public async Task A_DeflateStream_client_refuses_an_answer_that_limits_a_window_it_did_not_offer_to_limit()
    {
        // A server that answers client_max_window_bits=10 whatever the offer: RFC 7692 section 7.1.2.2 forbids it
        // when the offer had no client_max_window_bits, and DeflateStream could not compress within 10 bits.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var request = new List<byte>();
            var buffer = new byte[4096];
            while (!System.Text.Encoding.ASCII.GetString([.. request]).Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                int n = await socket.ReceiveAsync(buffer);
                Assert.True(n > 0, "the client closed before its request ended");
                request.AddRange(buffer.AsSpan(0, n).ToArray());
            }
            string head = System.Text.Encoding.ASCII.GetString([.. request]);
            string key = head.Split("\r\n").Single(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))["Sec-WebSocket-Key:".Length..].Trim();
            var accept = new byte[28];
            Handshake.ComputeAccept(System.Text.Encoding.ASCII.GetBytes(key), accept);
            await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + $"Sec-WebSocket-Accept: {System.Text.Encoding.ASCII.GetString(accept)}\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n\r\n"));
            return head;
        });

        var uri = new Uri($"ws://{listener.LocalEndpoint}/");
        var failure = Assert.Throws<WebSocketProtocolException>(() => WebSocketClient.Connect(uri,
            new WebSocketClientOptions { Compression = WebSocketCompression.Dedicated, DeflateEngine = DeflateEngine.DeflateStream }));
        Assert.Contains("client window that was not offered", failure.Message);
        string offer = (await server.WaitAsync(TimeSpan.FromSeconds(30))).Split("\r\n").Single(l => l.StartsWith("Sec-WebSocket-Extensions:", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("Sec-WebSocket-Extensions: permessage-deflate", offer);
    }

    public static TheoryData<string, WebSocketCompression, string> PythonModes()
    {
        var data = new TheoryData<string, WebSocketCompression, string>();
        foreach (string engine in TestEngines.Names)
            foreach (string serverMode in new[] { "shared", "dedicated" })
                foreach (var clientMode in new[] { WebSocketCompression.Shared, WebSocketCompression.Dedicated })
                    data.Add(serverMode, clientMode, engine);
        return data;
    }

    [Theory]
    [MemberData(nameof(PythonModes))]
    public async Task WsGen_client_agrees_permessage_deflate_with_Python_websockets(string serverMode, WebSocketCompression clientMode, string engine)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", ["py-deflate-server.py", serverMode])
        {
            WorkingDirectory = Path.Combine(EchoInteropTests.RepositoryRoot(), "tests", "interop"),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var python = Process.Start(start)!;
        try
        {
            string? line = python.StandardOutput.ReadLine();
            Assert.True(line is not null && line.StartsWith("listening ", StringComparison.Ordinal), $"the Python server did not start: {line}");
            var uri = new Uri($"ws://127.0.0.1:{line!["listening ".Length..]}/");
            var run = Task.Run(() =>
            {
                using var client = WebSocketClient.Connect(uri, new WebSocketClientOptions { Compression = clientMode, DeflateEngine = TestEngines.Parse(engine) });
                Assert.True(client.IsCompressed);
                EchoEverySize(client);
                client.Close();
            });
            await run.WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            python.StandardInput.Close();
            if (!python.WaitForExit(10_000))
                python.Kill();
        }
    }

    private static void EchoEverySize(WebSocketClient client)
    {
        int seed = 0;
        foreach (int size in Sizes)
        {
            for (int i = 0; i < 4; i++)
            {
                byte[] message = JsonLike.Message(size, seed++);
                var opcode = i % 2 == 0 ? WebSocketOpcode.Text : WebSocketOpcode.Binary;
                client.Send(message, opcode);
                var frame = client.ReadFrame();
                try
                {
                    Assert.Equal(opcode, frame.Opcode);
                    Assert.Equal(message, frame.Payload.ToArray());
                }
                finally
                {
                    frame.Release();
                }
            }
        }
    }
}
