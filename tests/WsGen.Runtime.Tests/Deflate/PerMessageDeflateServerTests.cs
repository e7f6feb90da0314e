using System.Text;
using WsGen.Protocol;
using WsGen.Tests.Server;

namespace WsGen.Tests.Deflate;

/// <summary>
/// permessage-deflate through the server (on the fake loop, in-memory connections), against a client half written on
/// .NET's own deflate (<see cref="DeflatePeer"/>): the cases of Autobahn's categories 12 (compressed messages of many
/// sizes echoed) and 13 (the same under every combination of the four parameters), pipelined compressed and plain
/// frames in one read, a decompression bomb, and RSV1 where the extension does not own it.
/// </summary>
public sealed class PerMessageDeflateServerTests
{
    /// <summary>Autobahn 13's offers: none of the parameters, each of them, and their combinations with windows of
    /// 9 and 15 bits (a server window of 8 is declined, see the negotiation tests).</summary>
    public static readonly string[] Offers =
    [
        "permessage-deflate",
        "permessage-deflate; client_no_context_takeover",
        "permessage-deflate; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; client_max_window_bits=9",
        "permessage-deflate; client_max_window_bits=15",
        "permessage-deflate; server_max_window_bits=9",
        "permessage-deflate; server_max_window_bits=15",
        "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover; client_max_window_bits=9; server_max_window_bits=9",
        "permessage-deflate; server_no_context_takeover; client_max_window_bits; server_max_window_bits=12",
        "permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits=15; server_max_window_bits=15",
    ];

    /// <summary>Every engine, mode and offer; the DeflateStream engine declines server windows below 15 (see the
    /// negotiation tests), so those offers run on zlib only.</summary>
    public static TheoryData<string, WebSocketCompression, string> EnginesModesAndOffers()
    {
        var data = new TheoryData<string, WebSocketCompression, string>();
        foreach (string engine in TestEngines.Names)
            foreach (var mode in new[] { WebSocketCompression.Shared, WebSocketCompression.Dedicated })
                foreach (var offer in Offers)
                {
                    if (engine == TestEngines.Zlib || !offer.Contains("server_max_window_bits=", StringComparison.Ordinal) || offer.Contains("server_max_window_bits=15", StringComparison.Ordinal))
                        data.Add(engine, mode, offer);
                }
        return data;
    }

    public static TheoryData<string, WebSocketCompression> EnginesAndModes() => TestEngines.WithModes();

    /// <summary>Autobahn 12: sizes from 16 B to 256 KiB, text and binary, ten different messages per size.</summary>
    private static readonly int[] Sizes = [16, 64, 256, 1024, 4096, 16384, 65536, 131072, 262144];

    [Theory]
    [MemberData(nameof(EnginesModesAndOffers))]
    public void Compressed_messages_of_every_size_echo_back_intact_under_every_combination_of_parameters(string engine, WebSocketCompression mode, string offer)
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint, TestEngines.Options(engine), endpointOptions: new WebSocketEndpointOptions { Compression = mode, CompressionWindowBits = 12, MaxMessageSize = 1 << 20 });
        var (client, peer) = Open(server, offer);

        int seed = 0;
        foreach (int size in Sizes)
        {
            for (int i = 0; i < 10; i++)
            {
                var opcode = i % 2 == 0 ? WebSocketOpcode.Text : WebSocketOpcode.Binary;
                byte[] message = JsonLike.Message(size, seed++);
                client.SendFrame(opcode, peer.Compress(message), rsv1: true);

                Assert.Equal(message, endpoint.Messages[^1].Payload);
                var reply = client.ReadFramesInOrder().Single();
                Assert.Equal(opcode, reply.Opcode);
                if (size >= 256)
                {
                    Assert.True(reply.Rsv1, $"a {size}-byte JSON-like message comes back compressed");
                    Assert.True(reply.Payload.Length < message.Length * 3 / 5, $"{size} B compressed to {reply.Payload.Length} B");
                }
                // Below the threshold (64 B), or not shorter once compressed without context: sent as it is.
                Assert.Equal(message, reply.Rsv1 ? peer.Decompress(reply.Payload) : reply.Payload);
            }
        }
        Assert.Empty(endpoint.Closed);
    }

    [Theory]
    [MemberData(nameof(EnginesAndModes))]
    public void Compressed_and_plain_frames_pipelined_in_one_read_all_arrive(string engine, WebSocketCompression mode)
    {
        var endpoint = new RecordingEndpoint { Echo = false };
        var server = new FakeServer(endpoint, TestEngines.Options(engine), endpointOptions: new WebSocketEndpointOptions { Compression = mode });
        var (client, peer) = Open(server, "permessage-deflate; client_max_window_bits");

        // Several compressed and plain frames (a fragmented compressed message among them) written as one read: the
        // server inflates each from the receive buffer, and the frames behind it stay intact.
        var messages = Enumerable.Range(0, 12).Select(i => JsonLike.Message(100 + i * 37, i)).ToList();
        var wire = new List<byte>();
        for (int i = 0; i < messages.Count; i++)
        {
            if (i % 3 == 0)
            {
                wire.AddRange(Frame(WebSocketOpcode.Text, messages[i], rsv1: false));
            }
            else if (i % 3 == 1)
            {
                wire.AddRange(Frame(WebSocketOpcode.Binary, peer.Compress(messages[i]), rsv1: true));
            }
            else
            {
                byte[] compressed = peer.Compress(messages[i]);
                wire.AddRange(Frame(WebSocketOpcode.Text, compressed.AsSpan(0, 3), rsv1: true, fin: false));
                wire.AddRange(Frame(WebSocketOpcode.Continuation, compressed.AsSpan(3), rsv1: false));
            }
        }
        client.SendBytes(wire.ToArray());

        Assert.Equal(messages, endpoint.Messages.Select(m => m.Payload));
        Assert.Empty(endpoint.Closed);
    }

    [Theory]
    [MemberData(nameof(EnginesAndModes))]
    public void A_message_that_inflates_past_MaxMessageSize_closes_with_1009_and_the_other_connections_go_on(string engine, WebSocketCompression mode)
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint, TestEngines.Options(engine), endpointOptions: new WebSocketEndpointOptions { Compression = mode, MaxMessageSize = 1 << 20 });
        var (bomber, bomberPeer) = Open(server, "permessage-deflate");
        var (other, otherPeer) = Open(server, "permessage-deflate");

        // 64 MiB of zeros compress to about 64 KiB: 64 times the limit once inflated.
        byte[] bomb = bomberPeer.Compress(new byte[64 << 20]);
        Assert.True(bomb.Length < 100_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        bomber.SendFrame(WebSocketOpcode.Binary, bomb, rsv1: true);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal((ushort)WebSocketCloseCode.MessageTooBig, CloseCode(bomber));
        Assert.Empty(endpoint.Messages);
        // The inflated bytes stop at the limit (1 MiB) plus one chunk (64 KiB), rented on the way: with the test's own
        // copies of the 64 KiB frame, well under 1.5 MiB, far below the 64 MiB the message would have become.
        Assert.True(allocated < (1L << 20) + (512 << 10), $"{allocated} bytes allocated while inflating the bomb");

        byte[] message = JsonLike.Message(2000, 7);
        other.SendFrame(WebSocketOpcode.Text, otherPeer.Compress(message), rsv1: true);
        Assert.Equal(message, endpoint.Messages.Single().Payload);
        Assert.Equal(message, otherPeer.Decompress(other.ReadFramesInOrder().Single().Payload));
    }

    [Theory]
    [MemberData(nameof(EnginesAndModes))]
    public void A_message_whose_final_block_inflates_to_one_byte_past_MaxMessageSize_closes_with_1009(string engine, WebSocketCompression mode)
    {
        // Found by the inflate fuzz target: a final block (BFINAL) ending in the same zlib call that reached the limit
        // plus one byte passed, and the message was delivered one byte too long.
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint, TestEngines.Options(engine), endpointOptions: new WebSocketEndpointOptions { Compression = mode, MaxMessageSize = 1024 });
        var (over, _) = Open(server, "permessage-deflate");
        var (exact, _) = Open(server, "permessage-deflate");

        over.SendFrame(WebSocketOpcode.Binary, WithFinalBlock(new byte[1025]), rsv1: true);
        exact.SendFrame(WebSocketOpcode.Binary, WithFinalBlock(new byte[1024]), rsv1: true);

        Assert.Equal((ushort)WebSocketCloseCode.MessageTooBig, CloseCode(over));
        Assert.Equal(1024, endpoint.Messages.Single().Payload.Length);
    }

    /// <summary>A whole raw deflate stream, its last block final: RFC 7692 section 7.2.3.3 lets a sender end a message so.</summary>
    private static byte[] WithFinalBlock(byte[] message)
    {
        var output = new MemoryStream();
        using (var deflate = new System.IO.Compression.DeflateStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            deflate.Write(message);
        return output.ToArray();
    }

    public static TheoryData<string> MisplacedRsv1 => ["continuation", "ping", "without the extension", "RSV2", "RSV3"];

    [Theory]
    [MemberData(nameof(MisplacedRsv1))]
    public void RSV1_where_permessage_deflate_does_not_own_it_closes_with_1002(string where)
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint, endpointOptions: new WebSocketEndpointOptions { Compression = WebSocketCompression.Shared });
        var (client, peer) = Open(server, where == "without the extension" ? null : "permessage-deflate");
        byte[] compressed = where == "without the extension" ? "hello"u8.ToArray() : peer.Compress("hello"u8);

        switch (where)
        {
            case "continuation":
                client.SendBytes(Frame(WebSocketOpcode.Binary, compressed.AsSpan(0, 2), rsv1: true, fin: false));
                client.SendBytes(Frame(WebSocketOpcode.Continuation, compressed.AsSpan(2), rsv1: true));
                break;
            case "ping":
                client.SendFrame(WebSocketOpcode.Ping, "p"u8, rsv1: true);
                break;
            case "RSV2":
            case "RSV3":
                byte[] frame = Frame(WebSocketOpcode.Binary, compressed, rsv1: true);
                frame[0] = (byte)((frame[0] & 0x8F) | (where == "RSV2" ? 0x20 : 0x10));
                client.SendBytes(frame);
                break;
            default:
                client.SendFrame(WebSocketOpcode.Binary, compressed, rsv1: true);
                break;
        }

        Assert.Equal((ushort)WebSocketCloseCode.ProtocolError, CloseCode(client));
        Assert.Empty(endpoint.Messages);
    }

    [Theory]
    [MemberData(nameof(TestEngines.Theory), MemberType = typeof(TestEngines))]
    public void Bytes_that_do_not_inflate_close_with_1007(string engine)
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint, TestEngines.Options(engine), endpointOptions: new WebSocketEndpointOptions { Compression = WebSocketCompression.Shared });
        var (client, _) = Open(server, "permessage-deflate");

        client.SendFrame(WebSocketOpcode.Binary, [0xFF, 0xFF, 0xFF, 0xFF, 0x00], rsv1: true);

        Assert.Equal((ushort)WebSocketCloseCode.InvalidPayloadData, CloseCode(client));
    }

    [Theory]
    [InlineData(WebSocketCompression.Shared)]
    [InlineData(WebSocketCompression.Dedicated)]
    public void A_final_block_that_ends_only_in_the_tail_closes_with_1007(WebSocketCompression mode)
    {
        // Found by the inflate fuzz target: 0x13 opens a final fixed-Huffman block that the appended 00 00 FF FF
        // completes (a literal, then the end of block), with tail bytes left after it. A sender that ends a message
        // with a final block ends it in the message's own bytes; zlib tells exactly where it ends, so this is 1007, as
        // the BCL's inflater says. (DeflateStream, the fallback engine, sees a stream's end only when input is left
        // over, and takes the message: documented there.)
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint, TestEngines.Options("zlib"), endpointOptions: new WebSocketEndpointOptions { Compression = mode });
        var (bad, _) = Open(server, "permessage-deflate");
        var (good, peer) = Open(server, "permessage-deflate");

        bad.SendFrame(WebSocketOpcode.Binary, [0x13], rsv1: true);
        byte[] message = JsonLike.Message(500, 3);
        good.SendFrame(WebSocketOpcode.Text, peer.Compress(message), rsv1: true);

        Assert.Equal((ushort)WebSocketCloseCode.InvalidPayloadData, CloseCode(bad));
        Assert.Equal(message, endpoint.Messages.Single().Payload);
    }

    [Theory]
    [MemberData(nameof(TestEngines.Theory), MemberType = typeof(TestEngines))]
    public void Messages_below_the_threshold_go_uncompressed(string engine)
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint, TestEngines.Options(engine), endpointOptions: new WebSocketEndpointOptions { Compression = WebSocketCompression.Shared, CompressionThreshold = 100 });
        var (client, peer) = Open(server, "permessage-deflate");

        client.SendFrame(WebSocketOpcode.Text, JsonLike.Message(99, 1));
        client.SendFrame(WebSocketOpcode.Text, JsonLike.Message(100, 2));

        var replies = client.ReadFramesInOrder();
        Assert.False(replies[0].Rsv1);
        Assert.Equal(JsonLike.Message(99, 1), replies[0].Payload);
        Assert.True(replies[1].Rsv1);
        Assert.Equal(JsonLike.Message(100, 2), peer.Decompress(replies[1].Payload));
    }

    [Fact]
    public void Shared_mode_connections_share_one_transform_and_hold_no_state_of_their_own()
    {
        var endpoint = new RecordingEndpoint();
        var server = new FakeServer(endpoint, endpointOptions: new WebSocketEndpointOptions { Compression = WebSocketCompression.Shared });
        Open(server, "permessage-deflate");
        Open(server, "permessage-deflate; client_max_window_bits");

        Assert.Same(endpoint.Opened[0].MessageTransform, endpoint.Opened[1].MessageTransform);
    }

    /// <summary>Opens a connection that offers <paramref name="offer"/> (none when null); returns the client and, when
    /// the server agreed, the client's half of the extension.</summary>
    private static (FakeClient Client, DeflatePeer Peer) Open(FakeServer server, string? offer)
    {
        var client = server.Connect();
        client.SendAscii(RawWebSocket.Request("/", offer is null ? "" : $"Sec-WebSocket-Extensions: {offer}\r\n"));
        string head = client.ReadHttpHead();
        Assert.StartsWith("HTTP/1.1 101 ", head);
        client.AcceptRsv1();
        var agreed = DeflatePeer.FromResponse(head);
        if (offer is not null)
            Assert.NotNull(agreed);
        return (client, agreed is { } a ? new DeflatePeer(a) : null!);
    }

    private static byte[] Frame(WebSocketOpcode opcode, ReadOnlySpan<byte> payload, bool rsv1, bool fin = true)
    {
        var frame = new byte[14 + payload.Length];
        int n = FrameWriter.WriteFrame(frame, opcode, fin, payload, 0x0A0B0C0Du, rsv1);
        return frame[..n];
    }

    private static ushort CloseCode(FakeClient client)
    {
        var close = client.ReadFramesInOrder().Single(f => f.Opcode == WebSocketOpcode.Close);
        return (ushort)((close.Payload[0] << 8) | close.Payload[1]);
    }
}
