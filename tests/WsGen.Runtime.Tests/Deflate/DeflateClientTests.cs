using System.Diagnostics;
using WsGen.Tests.Server;

namespace WsGen.Tests.Deflate;

/// <summary>WsGen's client with permessage-deflate: against WsGen's server on every loop, and against Python's
/// websockets server (another implementation), in both modes; messages of many sizes go out compressed and come back
/// intact.</summary>
public sealed class DeflateClientTests
{
    private static readonly int[] Sizes = [1, 63, 64, 1024, 16384, 65536, 1 << 20];

    [Theory]
    [MemberData(nameof(DeflateInteropTests.LoopsAndModes), MemberType = typeof(DeflateInteropTests))]
    public void WsGen_client_and_server_agree_permessage_deflate_and_echo(string loop, WebSocketCompression mode)
    {
        using var server = TestServers.StartEcho(loop, endpoint: new WebSocketEndpointOptions { Compression = mode, MaxMessageSize = 64 << 20 });
        using var client = WebSocketClient.Connect(server.Url(), new WebSocketClientOptions { Compression = mode });
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

    [Theory]
    [InlineData("shared", WebSocketCompression.Shared)]
    [InlineData("shared", WebSocketCompression.Dedicated)]
    [InlineData("dedicated", WebSocketCompression.Shared)]
    [InlineData("dedicated", WebSocketCompression.Dedicated)]
    public async Task WsGen_client_agrees_permessage_deflate_with_Python_websockets(string serverMode, WebSocketCompression clientMode)
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
                using var client = WebSocketClient.Connect(uri, new WebSocketClientOptions { Compression = clientMode });
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
