using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Echo;
using WsGen.Tests.Server;

namespace WsGen.Tests.Deflate;

/// <summary>permessage-deflate against real peers, on every loop that runs here, in shared and dedicated modes:
/// .NET's ClientWebSocket (DangerousDeflateOptions), Python's websockets (compression on by default), the npm ws
/// client (perMessageDeflate) and Chromium (the page checks that <c>extensions</c> is <c>permessage-deflate</c>).</summary>
public sealed class DeflateInteropTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>Every loop, in both modes, on both engines (zlib and the DeflateStream fallback).</summary>
    public static TheoryData<string, WebSocketCompression, string> LoopsModesAndEngines()
    {
        var data = new TheoryData<string, WebSocketCompression, string>();
        foreach (string loop in TestServers.Names)
            foreach (string engine in TestEngines.Names)
            {
                data.Add(loop, WebSocketCompression.Shared, engine);
                data.Add(loop, WebSocketCompression.Dedicated, engine);
            }
        return data;
    }

    private static WebSocketServer StartEcho(string loop, WebSocketCompression mode, string engine) =>
        TestServers.StartEcho(loop, options => options.DeflateEngine = TestEngines.Parse(engine),
            new WebSocketEndpointOptions { Compression = mode, MaxMessageSize = 64 << 20 });

    [Theory]
    [MemberData(nameof(LoopsModesAndEngines))]
    public async Task ClientWebSocket_with_DangerousDeflateOptions_echoes_compressed_messages(string loop, WebSocketCompression mode, string engine)
    {
        using var server = StartEcho(loop, mode, engine);
        using var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        client.Options.CollectHttpResponseDetails = true;
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions { ClientMaxWindowBits = 15, ServerMaxWindowBits = 15 };
        using var cts = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(server.Url(), cts.Token);
        var agreed = client.HttpResponseHeaders?["Sec-WebSocket-Extensions"]?.Single();
        Assert.StartsWith("permessage-deflate", agreed);

        int seed = 0;
        foreach (int size in new[] { 1, 100, 1024, 16384, 65536, 1 << 20 })
        {
            for (int i = 0; i < 4; i++)
            {
                byte[] message = JsonLike.Message(size, seed++);
                var type = i % 2 == 0 ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
                Assert.Equal(message, await EchoInteropTests.EchoAsync(client, message, type));
            }
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
    }

    [Theory]
    [MemberData(nameof(LoopsModesAndEngines))]
    public async Task Python_websockets_agrees_permessage_deflate_by_default_and_its_messages_echo(string loop, WebSocketCompression mode, string engine)
    {
        Assert.True(File.Exists("/usr/bin/python3"), "no /usr/bin/python3: install the Debian package python3-websockets (tests/install-peers.sh does)");
        using var server = StartEcho(loop, mode, engine);
        string output = await RunAsync("/usr/bin/python3", ["py-deflate-client.py", server.Url("/python").ToString()]);
        Assert.Contains("ok agreed permessage-deflate", output);
        Assert.Contains("ok 1048576 B", output);
        Assert.Contains("all ok", output);
    }

    [Theory]
    [MemberData(nameof(LoopsModesAndEngines))]
    public async Task Npm_ws_with_perMessageDeflate_agrees_it_and_its_messages_echo(string loop, WebSocketCompression mode, string engine)
    {
        Assert.True(Directory.Exists(Path.Combine(Interop, "node_modules", "ws")),
            "the npm ws package is missing: run `npm ci` in tests/interop (test.sh and .ci/run do)");
        using var server = StartEcho(loop, mode, engine);
        string output = await RunAsync("node", ["ws-deflate-client.mjs", server.Url("/npm").ToString()]);
        Assert.Contains("ok agreed: permessage-deflate", output);
        Assert.Contains("ok 1048576 B", output);
        Assert.Contains("all ok", output);
    }

    [Theory]
    [MemberData(nameof(LoopsModesAndEngines))]
    public async Task Chromium_agrees_permessage_deflate_and_its_messages_echo(string loop, WebSocketCompression mode, string engine)
    {
        var endpoint = new ReportingEcho();
        var options = TestServers.OptionsFor(loop, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        options.DeflateEngine = TestEngines.Parse(engine);
        using var server = new WebSocketServer(options);
        server.Map("/ws", endpoint, new WebSocketEndpointOptions { Compression = mode });
        server.MapPage("/", "text/html; charset=utf-8", Encoding.UTF8.GetBytes(Page));
        server.Start();

        using var browser = HeadlessChromium.Open($"http://{server.LocalEndPoint}/");
        // extensions is the response's whole value: the extension's name, then the parameters the server agreed.
        string result = await endpoint.Result.WaitAsync(Timeout);
        Assert.Equal("result extension=permessage-deflate echoed=6", result[..result.IndexOf(" agreed=", StringComparison.Ordinal)]);
        Assert.EndsWith(mode == WebSocketCompression.Shared
            ? "agreed=permessage-deflate; server_no_context_takeover; client_no_context_takeover"
            : "agreed=permessage-deflate; client_max_window_bits=12", result);
        Assert.True(endpoint.Compressed, "the server did not run permessage-deflate on the browser's connection");
    }

    /// <summary>The page: opens the endpoint, sends six JSON-like messages of 100 B to 64 KiB (text and binary),
    /// checks each echo, then reports <c>extensions</c> and the count of exact echoes.</summary>
    private const string Page = """
        <!doctype html><meta charset="utf-8"><title>deflate</title><script>
        const ws = new WebSocket(`ws://${location.host}/ws`);
        ws.binaryType = 'arraybuffer';
        const sizes = [100, 1024, 4096, 16384, 65536, 2000];
        const json = (size, seed) => { let s = '['; for (let i = 0; s.length < size; i++) s += `${i ? ',' : ''}{"id":${seed * 31 + i},"user":"u${(seed + i) % 97}","ok":true}`; return s.slice(0, size); };
        let i = 0, echoed = 0, sent;
        const next = () => {
          if (i === sizes.length) { ws.send(`result extension=${ws.extensions.split(';')[0]} echoed=${echoed} agreed=${ws.extensions}`); return; }
          const text = json(sizes[i], i);
          sent = i % 2 ? new TextEncoder().encode(text) : text;
          i++;
          ws.send(sent);
        };
        ws.onopen = next;
        ws.onmessage = (e) => {
          const got = typeof e.data === 'string' ? e.data : new TextDecoder().decode(e.data);
          const want = typeof sent === 'string' ? sent : new TextDecoder().decode(sent);
          if (got === want && (typeof e.data === 'string') === (typeof sent === 'string')) echoed++;
          next();
        };
        </script>
        """;

    private static string Interop => Path.Combine(EchoInteropTests.RepositoryRoot(), "tests", "interop");

    private static async Task<string> RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = Interop, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(Timeout), $"{program} did not finish");
        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, output);
        return output;
    }

    /// <summary>Echoes every message but the page's report, which completes <see cref="Result"/>.</summary>
    private sealed class ReportingEcho : IWebSocketEndpoint
    {
        private readonly TaskCompletionSource<string> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<string> Result => _result.Task;

        public bool Compressed { get; private set; }

        public void OnOpen(WebSocketConnection conn) => Compressed = conn.MessageTransform is not null;

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
            if (opcode == WebSocketOpcode.Text && payload.StartsWith("result "u8))
                _result.TrySetResult(Encoding.UTF8.GetString(payload));
            else
                conn.Send(payload, opcode);
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status)
        {
        }
    }
}
