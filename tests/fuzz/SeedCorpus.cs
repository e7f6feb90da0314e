using System.Text;
using WsGen.Protocol;

namespace WsGen.Fuzz;

/// <summary>
/// The seed corpora committed under tests/fuzz/corpus: a few small, valid and nearly valid inputs per target, made
/// with the library's own writers so that afl-fuzz starts from the shapes that matter (every length form, masking,
/// fragments with control frames between them, close bodies, RSV1; complete and refused handshakes; every UTF-8
/// sequence length and its classic errors).
/// </summary>
internal static class SeedCorpus
{
    public static int Write(string directory)
    {
        int count = 0;
        foreach ((string target, string name, byte[] input) in All())
        {
            string folder = Path.Combine(directory, target);
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, name), input);
            count++;
        }

        return count;
    }

    private static IEnumerable<(string Target, string Name, byte[] Input)> All()
    {
        foreach (bool server in new[] { true, false })
        {
            string target = server ? "frame-server" : "frame-client";
            uint? key = server ? 0x37FA213Du : null;
            byte[] Frames(params byte[][] frames) => [.. frames.SelectMany(f => f)];
            byte[] Frame(WebSocketOpcode opcode, bool fin, byte[] payload, bool rsv1 = false)
            {
                byte[] frame = new byte[FrameWriter.HeaderSize(payload.Length, key.HasValue) + payload.Length];
                FrameWriter.WriteFrame(frame, opcode, fin, payload, key, rsv1);
                return frame;
            }

            byte[] Close(ushort code, string reason)
            {
                byte[] frame = new byte[FrameHeader.MaxLength + CloseCodes.MaxPayloadLength];
                return frame.AsSpan(0, FrameWriter.WriteClose(frame, code, reason, key)).ToArray();
            }

            byte[] hello = "Hello"u8.ToArray();
            byte[] mixed = Encoding.UTF8.GetBytes("h\u00e9llo \u20ac \U0001F600");
            byte[] seeds = [0x00, 0x21, 0x45, 0x66, 0x8A, 0xB3, 0xD7, 0xE0];
            (string, byte[])[] streams =
            [
                ("text", Frame(WebSocketOpcode.Text, true, hello)),
                ("binary-126", Frame(WebSocketOpcode.Binary, true, [.. Enumerable.Range(0, 126).Select(i => (byte)i)])),
                ("binary-65536-truncated", Frame(WebSocketOpcode.Binary, true, new byte[65536])[..40]),
                ("fragmented-text-ping", Frames(Frame(WebSocketOpcode.Text, false, mixed[..2]), Frame(WebSocketOpcode.Ping, true, hello),
                    Frame(WebSocketOpcode.Continuation, false, mixed[2..9]), Frame(WebSocketOpcode.Pong, true, []),
                    Frame(WebSocketOpcode.Continuation, true, mixed[9..]))),
                ("messages-close", Frames(Frame(WebSocketOpcode.Text, true, mixed), Frame(WebSocketOpcode.Binary, true, []), Close(1000, "bye"),
                    Frame(WebSocketOpcode.Text, true, hello))),
                ("close-empty", Frame(WebSocketOpcode.Close, true, [])),
                ("close-bad-code", Frame(WebSocketOpcode.Close, true, [0x03, 0xED])),
                ("invalid-utf8", Frame(WebSocketOpcode.Text, true, [0x68, 0xC0, 0xAF])),
                ("rsv1", Frames(Frame(WebSocketOpcode.Text, false, [0xF2, 0x48], rsv1: true), Frame(WebSocketOpcode.Continuation, true, [0xCD, 0xC9]))),
                ("continuation-alone", Frame(WebSocketOpcode.Continuation, true, hello)),
                ("control-fragmented", Frame(WebSocketOpcode.Ping, false, hello)),
            ];
            int i = 0;
            foreach ((string name, byte[] stream) in streams)
            {
                // The configuration byte: the stream's own needs (RSV1 allowed), then sizes and chunkings in turn.
                byte config = (byte)((i * 0x25) & 0xEF | (name == "rsv1" ? 0x10 : 0));
                yield return (target, name, [config, seeds[i % seeds.Length], .. stream]);
                i++;
            }
        }

        const string Request = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
            + "Sec-WebSocket-Version: 13\r\n\r\n";
        (string, byte, string)[] requests =
        [
            ("rfc6455-example", 0x00, Request),
            ("subprotocol-list", 0x02, Request),
            ("subprotocol-hook", 0x04, Request),
            ("origin-refused", 0x08, Request.Replace("http://example.com", "http://evil.example")),
            ("small-limits", 0x01, Request),
            ("lowercase-split-lists", 0x00, "GET /a?b=c HTTP/1.1\r\nhost: h\r\nupgrade: WebSocket\r\nconnection: keep-alive\r\nconnection: upgrade\r\n"
                + "sec-websocket-key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nsec-websocket-version: 13\r\nX-Other: 1\r\n\r\n\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
            ("http10", 0x00, Request.Replace("HTTP/1.1", "HTTP/1.0")),
            ("version-8", 0x00, Request.Replace("Version: 13", "Version: 8")),
            ("post", 0x00, Request.Replace("GET", "POST")),
            ("partial", 0x00, Request[..60]),
        ];
        foreach ((string name, byte config, string text) in requests)
            yield return ("http-request", name, [config, .. Encoding.Latin1.GetBytes(text)]);

        const string Response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
        (string, byte, string)[] responses =
        [
            ("rfc6455-example", 0, Response + "\r\n"),
            ("subprotocol", 2, Response + "Sec-WebSocket-Protocol: chat\r\n\r\n\x81\x05Hello"),
            ("wrong-accept", 1, Response.Replace("s3pP", "s3pQ") + "\r\n"),
            ("extension", 0, Response + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
            ("refused", 0, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
            ("partial", 0, Response[..50]),
        ];
        foreach ((string name, byte config, string text) in responses)
            yield return ("http-response", name, [config, .. Encoding.Latin1.GetBytes(text)]);

        (string, byte[])[] texts =
        [
            ("ascii", "Hello, WebSocket"u8.ToArray()),
            ("every-length", Encoding.UTF8.GetBytes("a\u00e9\u20ac\U0001F600\uFFFE\U0010FFFF")),
            ("long-mixed", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("\u03ba\u1f79\u03c3\u03bc\u03b5 abc \U0001F600", 12)))),
            ("overlong", [0x41, 0xC0, 0xAF, 0xE0, 0x80, 0xAF]),
            ("surrogate", [0x41, 0xED, 0xA0, 0x80]),
            ("above-max", [0xF4, 0x90, 0x80, 0x80]),
            ("truncated", [0x41, 0xF0, 0x9F, 0x98]),
        ];
        int n = 0;
        foreach ((string name, byte[] text) in texts)
            yield return ("utf8", name, [(byte)(n++ * 37), .. text]);

        foreach ((string name, byte[] input) in InflateSeeds())
            yield return ("inflate", name, input);

        (string, byte, string)[] offers =
        [
            ("plain", 0x02, "permessage-deflate"),
            ("chrome", 0x01, "permessage-deflate; client_max_window_bits"),
            ("all-parameters", 0x0E, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=\"12\""),
            ("several-offers", 0x06, "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits=9"),
            ("several-lines", 0x02, "permessage-deflate; unknown\npermessage-deflate; server_max_window_bits=15; server_max_window_bits=15\npermessage-deflate"),
            ("off", 0x00, "permessage-deflate"),
        ];
        foreach ((string name, byte config, string text) in offers)
            yield return ("deflate-offer", name, [config, .. Encoding.Latin1.GetBytes(text)]);
    }

    /// <summary>Compressed messages for the inflate target (its input: configuration byte, limit byte, then each
    /// message after its 2-byte length), made with WsGen's deflater, and with the BCL's for a final block.</summary>
    private static IEnumerable<(string Name, byte[] Input)> InflateSeeds()
    {
        const byte Shared = 0, Limit512 = 0x5F, Limit512K = 0xFF, Limit1K = 0x7F;
        static byte Dedicated(int windowBits) => (byte)(1 | (windowBits - 9) << 1);
        static byte[] Messages(byte config, byte limit, params byte[][] messages) =>
            [config, limit, .. messages.SelectMany(m => (byte[])[(byte)(m.Length >> 8), (byte)m.Length, .. m])];
        static byte[][] Compress(int windowBits, bool reset, params string[] texts)
        {
            var context = new DeflateContext(DeflateEngine.Zlib);
            using var deflater = new Deflater(DeflateEngine.Zlib, windowBits, PerMessageDeflate.MemLevel(windowBits));
            return [.. texts.Select(t => deflater.Compress(Encoding.UTF8.GetBytes(t), context.Deflated, reset).ToArray())];
        }

        string json = string.Concat(Enumerable.Range(0, 20).Select(i => $"{{\"id\":{i},\"name\":\"user{i % 7}\",\"online\":{(i % 3 == 0 ? "true" : "false")}}},"));
        var final = new MemoryStream();
        using (var stream = new System.IO.Compression.DeflateStream(final, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            stream.Write("Hello, final block"u8);

        yield return ("shared-hello", Messages(Shared, Limit512, Compress(15, true, "Hello")));
        yield return ("shared-json-chunks", Messages(Shared, Limit512K, Compress(15, true, json)));
        yield return ("shared-over-limit", Messages(Shared, Limit1K, Compress(15, true, new string('a', 5000))));
        yield return ("shared-final-block", Messages(Shared, Limit512, final.ToArray()));
        yield return ("shared-trailing-bytes", Messages(Shared, Limit512, [.. final.ToArray(), 0x00]));
        yield return ("shared-bad-block-type", Messages(Shared, Limit512, [0xFF, 0xFF]));
        yield return ("dedicated-10-takeover", Messages(Dedicated(10), Limit512K, Compress(10, false, json, json[..200], "Hello " + json)));
        yield return ("dedicated-15-takeover", Messages(Dedicated(15), Limit512, Compress(15, false, "Hello", "Hello", "Hello, Hello")));
        yield return ("dedicated-9-sender-resets", Messages(Dedicated(9), Limit512K, Compress(9, true, json, json)));
    }
}
