using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using WsGen.Tests.Server;

namespace WsGen.Tests.Deflate;

/// <summary>Publishing to subscribers that agreed permessage-deflate, on every loop, in shared and dedicated modes:
/// npm ws and Python websockets subscribers on two loops get many publishes interleaved with direct sends, every
/// message checked; beside them a raw subscriber checks on the wire which messages came compressed (shared mode: the
/// frame a loop compressed once; dedicated mode, whose deflater keeps context: published messages uncompressed, the
/// direct sends compressed, and the peer's window still in step).</summary>
public sealed class DeflateTopicInteropTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    /// <summary>Enough that the kernel, which spreads connections over the two loops by a hash of the client's port,
    /// leaves neither loop without one (all 17 connections on one loop: 1 run in 65,536; with 6, 1 in 64).</summary>
    private const int Subscribers = 16;
    private const int Messages = 200;
    private static readonly int[] Sizes = [8, 300, 5000, 40000];

    public static TheoryData<string, WebSocketCompression, string> LoopsModesAndEngines => DeflateInteropTests.LoopsModesAndEngines();

    [Theory]
    [MemberData(nameof(LoopsModesAndEngines))]
    public Task Npm_ws_subscribers_get_every_publish_and_direct_send_whole_and_in_order(string loop, WebSocketCompression mode, string engine)
    {
        Assert.True(Directory.Exists(Path.Combine(Interop, "node_modules", "ws")),
            "the npm ws package is missing: run `npm ci` in tests/interop (test.sh and .ci/run do)");
        return RunAsync(loop, mode, engine, "node", "topic-deflate-subscribers.mjs");
    }

    [Theory]
    [MemberData(nameof(LoopsModesAndEngines))]
    public Task Python_websockets_subscribers_get_every_publish_and_direct_send_whole_and_in_order(string loop, WebSocketCompression mode, string engine)
    {
        Assert.True(File.Exists("/usr/bin/python3"), "no /usr/bin/python3: install the Debian package python3-websockets (tests/install-peers.sh does)");
        return RunAsync(loop, mode, engine, "/usr/bin/python3", "py-topic-deflate-subscribers.py");
    }

    /// <summary>Message <paramref name="i"/>, as the subscriber scripts make it: text or binary, 8 B to 40 KB, "p"
    /// (published) or "d" (sent to each connection directly), every fifth one direct.</summary>
    private static (byte[] Payload, WebSocketOpcode Opcode, bool Direct) Message(int i)
    {
        int size = Sizes[i % 4];
        bool direct = i % 5 == 4;
        if (i % 3 == 2)
        {
            var bytes = new byte[size];
            for (int j = 0; j < size; j++)
                bytes[j] = (byte)(i + j % 61);
            return (bytes, WebSocketOpcode.Binary, direct);
        }

        var text = new StringBuilder((direct ? "d" : "p") + i + ":");
        while (text.Length < size)
            text.Append($"{{\"n\":{i},\"v\":\"abcdefgh\"}}");
        return (Encoding.ASCII.GetBytes(text.ToString(0, size)), WebSocketOpcode.Text, direct);
    }

    private static async Task RunAsync(string loop, WebSocketCompression mode, string engine, string program, string script)
    {
        var serverOptions = TestServers.OptionsFor(loop, new IPEndPoint(IPAddress.Loopback, 0));
        serverOptions.Loops = 2;
        serverOptions.DeflateEngine = TestEngines.Parse(engine);
        using var server = new WebSocketServer(serverOptions);
        var endpoint = new Members();
        // A publish limit the uncompressed publishes of dedicated mode (2 MB in all) cannot reach: none may be dropped.
        server.Map("*", endpoint, new WebSocketEndpointOptions { Topics = ["t"], Compression = mode, PublishLimit = 32 << 20 });
        server.Start();

        using var raw = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        raw.SendText(RawWebSocket.Request("/raw", "Sec-WebSocket-Extensions: permessage-deflate\r\n"));
        var agreed = DeflatePeer.FromResponse(raw.ReadHttpHead());
        Assert.NotNull(agreed);
        Assert.Equal(mode == WebSocketCompression.Shared, agreed.Value.ServerNoContextTakeover);
        using var peer = new DeflatePeer(agreed.Value);
        var wire = Task.Run(() => ReadRaw(raw, peer));

        var start = new ProcessStartInfo(program) { WorkingDirectory = Interop, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { script, server.Url("/").ToString(), $"{Subscribers}", $"{Messages}" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            string? line = await process.StandardOutput.ReadLineAsync().WaitAsync(Timeout);
            Assert.True(line is not null && line.StartsWith($"open {Subscribers} permessage-deflate", StringComparison.Ordinal), line);
            Assert.Equal(mode == WebSocketCompression.Shared, line.Contains("server_no_context_takeover", StringComparison.Ordinal));
            Assert.True(SpinWait.SpinUntil(() => server.SubscriberCount("t") == Subscribers + 1, Timeout));
            Assert.All(server.ConnectionsPerLoop, n => Assert.True(n > 0, "both loops should have subscribers"));

            // From one thread, so that on each connection the publishes and the direct sends keep the order of the calls.
            await Task.Run(() =>
            {
                for (int i = 0; i < Messages; i++)
                {
                    var (payload, opcode, direct) = Message(i);
                    if (!direct)
                    {
                        Assert.True(server.Publish("t", payload, opcode));
                        continue;
                    }

                    foreach (var conn in endpoint.Open.Keys)
                        conn.Send(payload, opcode);
                }
            });

            line = await process.StandardOutput.ReadLineAsync().WaitAsync(Timeout);
            Assert.True(line == $"ok {Subscribers * Messages}", line);
            Assert.True(process.WaitForExit(Timeout));
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }

        var compressed = await wire.WaitAsync(Timeout);
        for (int i = 0; i < Messages; i++)
        {
            var (payload, _, direct) = Message(i);
            if (mode == WebSocketCompression.Dedicated && !direct)
                Assert.False(compressed[i], $"published message {i} came compressed to a subscriber whose deflater keeps context");
            else if (payload.Length >= 5000)
                Assert.True(compressed[i], $"message {i} ({payload.Length} B, {(direct ? "direct" : "published")}) came uncompressed");
        }
    }

    /// <summary>Reads every message on the raw connection, checks it (decompressed when it came with RSV1) and
    /// returns which came compressed.</summary>
    private static bool[] ReadRaw(RawWebSocket raw, DeflatePeer peer)
    {
        var compressed = new bool[Messages];
        for (int i = 0; i < Messages; i++)
        {
            var frame = raw.ReadFrame();
            Assert.NotNull(frame);
            var (first, payload) = frame.Value;
            var (expected, opcode, _) = Message(i);
            Assert.Equal(0x80 | (int)opcode, first & 0x8F);
            compressed[i] = (first & 0x40) != 0;
            Assert.Equal(expected, compressed[i] ? peer.Decompress(payload) : payload);
        }

        return compressed;
    }

    private static string Interop => Path.Combine(EchoInteropTests.RepositoryRoot(), "tests", "interop");

    /// <summary>Keeps the open connections (for the direct sends); every connection subscribes through the endpoint's
    /// <see cref="WebSocketEndpointOptions.Topics"/>.</summary>
    private sealed class Members : IWebSocketEndpoint
    {
        public readonly ConcurrentDictionary<WebSocketConnection, bool> Open = new();

        public void OnOpen(WebSocketConnection conn) => Open[conn] = true;

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status) => Open.TryRemove(conn, out _);
    }
}
