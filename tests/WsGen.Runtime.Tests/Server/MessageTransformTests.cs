using System.Text;
using WsGen.Protocol;
using WsGen.Server;

namespace WsGen.Tests.Server;

/// <summary>The protocol's message transform seam (where permessage-deflate plugs in): RSV1 belongs to the
/// connection's transform on the first frame of a data message, messages are decoded before UTF-8 validation and
/// delivery, whole outgoing messages are encoded and sent with RSV1, and RSV1 anywhere else stays a protocol error.</summary>
public sealed class MessageTransformTests
{
    [Fact]
    public void A_message_with_RSV1_is_decoded_before_delivery_and_the_reply_is_encoded_with_RSV1()
    {
        var endpoint = new TransformingEndpoint();
        var server = new FakeServer(endpoint);
        var client = server.Open();
        client.AcceptRsv1();

        client.SendFrame(WebSocketOpcode.Text, XorTransform.Apply("hello"u8), rsv1: true);

        Assert.Equal("hello", Encoding.UTF8.GetString(endpoint.Messages.Single().Payload));
        var reply = client.ReadTransformedFrames().Single();
        Assert.Equal(WebSocketOpcode.Text, reply.Opcode);
        Assert.Equal("hello", Encoding.UTF8.GetString(XorTransform.Apply(reply.Payload)));
    }

    [Fact]
    public void A_fragmented_message_with_RSV1_on_its_first_frame_is_joined_then_decoded()
    {
        var endpoint = new TransformingEndpoint { Echo = false };
        var server = new FakeServer(endpoint);
        var client = server.Open();

        byte[] encoded = XorTransform.Apply("fragmented message"u8);
        client.SendFrame(WebSocketOpcode.Binary, encoded.AsSpan(0, 5), fin: false, rsv1: true);
        client.SendFrame(WebSocketOpcode.Continuation, encoded.AsSpan(5), fin: true);

        Assert.Equal("fragmented message", Encoding.UTF8.GetString(endpoint.Messages.Single().Payload));
    }

    [Fact]
    public void A_message_without_RSV1_passes_untouched_on_a_transformed_connection()
    {
        var endpoint = new TransformingEndpoint { Echo = false };
        var server = new FakeServer(endpoint);
        var client = server.Open();

        client.SendFrame(WebSocketOpcode.Text, "plain"u8);

        Assert.Equal("plain", Encoding.UTF8.GetString(endpoint.Messages.Single().Payload));
    }

    public static TheoryData<string> MisplacedReservedBits => ["continuation", "ping", "without a transform"];

    [Theory]
    [MemberData(nameof(MisplacedReservedBits))]
    public void RSV1_where_the_transform_does_not_own_it_closes_with_1002(string where)
    {
        var endpoint = new TransformingEndpoint { Attach = where != "without a transform" };
        var server = new FakeServer(endpoint);
        var client = server.Open();

        switch (where)
        {
            case "continuation":
                client.SendFrame(WebSocketOpcode.Binary, "ab"u8, fin: false);
                client.SendFrame(WebSocketOpcode.Continuation, "cd"u8, fin: true, rsv1: true);
                break;
            case "ping":
                client.SendFrame(WebSocketOpcode.Ping, "p"u8, rsv1: true);
                break;
            default:
                client.SendFrame(WebSocketOpcode.Binary, "ab"u8, rsv1: true);
                break;
        }

        Assert.Equal((ushort)WebSocketCloseCode.ProtocolError, CloseCode(client));
        Assert.Empty(endpoint.Messages);
    }

    [Fact]
    public void A_message_that_does_not_decode_closes_with_the_transforms_code()
    {
        var endpoint = new TransformingEndpoint();
        var server = new FakeServer(endpoint);
        var client = server.Open();

        client.SendFrame(WebSocketOpcode.Binary, [XorTransform.Undecodable, 1, 2], rsv1: true);

        Assert.Equal((ushort)WebSocketCloseCode.InvalidPayloadData, CloseCode(client));
        Assert.Empty(endpoint.Messages);
    }

    [Fact]
    public void Text_is_validated_after_decoding()
    {
        var endpoint = new TransformingEndpoint();
        var server = new FakeServer(endpoint);
        var client = server.Open();

        // Valid UTF-8 on the wire, invalid once decoded: only the decoded message counts.
        byte[] wire = XorTransform.Apply([0xC3, 0x28]);
        client.SendFrame(WebSocketOpcode.Text, wire, rsv1: true);

        Assert.Equal((ushort)WebSocketCloseCode.InvalidPayloadData, CloseCode(client));
        Assert.Empty(endpoint.Messages);
    }

    [Fact]
    public void The_transform_is_released_when_the_connection_ends()
    {
        var endpoint = new TransformingEndpoint();
        var server = new FakeServer(endpoint);
        var client = server.Open();

        client.Conn.Close();
        server.Reactor.RunUntilIdle();

        Assert.True(endpoint.Transforms.Single().Disposed);
    }

    [Fact]
    public void A_publish_is_encoded_once_per_key_and_goes_plain_to_subscribers_whose_encoding_keeps_context()
    {
        // Keys as permessage-deflate gives them: shared subscribers one key per window, context takeover 0.
        long[] keys = [7, 7, 0, 7, 9, 7];
        var endpoint = new TransformingEndpoint { Echo = false, PublishKeys = keys };
        var server = new FakeServer(endpoint);
        var clients = keys.Select(_ => server.Open()).ToList();
        foreach (var client in clients)
            client.AcceptRsv1();
        foreach (var conn in endpoint.Connections)
            conn.Subscribe("t");

        for (int round = 0; round < 3; round++)
        {
            endpoint.Connections[^1].Publish("t", Encoding.UTF8.GetBytes($"news {round}"), WebSocketOpcode.Text);
            endpoint.Connections[2].Send(Encoding.UTF8.GetBytes($"direct {round}"), WebSocketOpcode.Text);
        }

        // Once per publish and key among the subscribers (the last connection published, and is skipped).
        Assert.Equal(3, endpoint.Transforms.Where(t => t.PublishKey == 7).Sum(t => t.Encoded));
        Assert.Equal(3, endpoint.Transforms[4].Encoded);
        Assert.Equal(3, endpoint.Transforms[2].Encoded);     // its direct sends only
        for (int i = 0; i < clients.Count - 1; i++)
        {
            var frames = clients[i].ReadFramesInOrder();
            string[] got = [.. frames.Select(f => Encoding.UTF8.GetString(f.Rsv1 ? XorTransform.Apply(f.Payload) : f.Payload))];
            if (i == 2)
            {
                Assert.Equal(["news 0", "direct 0", "news 1", "direct 1", "news 2", "direct 2"], got);
                Assert.Equal([false, true, false, true, false, true], frames.Select(f => f.Rsv1));
            }
            else
            {
                Assert.Equal(["news 0", "news 1", "news 2"], got);
                Assert.All(frames, f => Assert.True(f.Rsv1));
            }
        }

        Assert.Empty(clients[^1].ReadFrames());
    }

    private static ushort CloseCode(FakeClient client)
    {
        var close = client.ReadFrames().Single(f => f.Opcode == WebSocketOpcode.Close);
        return (ushort)((close.Payload[0] << 8) | close.Payload[1]);
    }

    private sealed class TransformingEndpoint : IWebSocketEndpoint
    {
        public bool Attach { get; init; } = true;

        public bool Echo { get; init; } = true;

        public List<(WebSocketOpcode Opcode, byte[] Payload)> Messages { get; } = [];

        public List<XorTransform> Transforms { get; } = [];

        public List<WebSocketConnection> Connections { get; } = [];

        /// <summary>The <see cref="IMessageTransform.PublishKey"/> of each connection's transform, in open order.</summary>
        public long[] PublishKeys { get; init; } = [];

        public void OnOpen(WebSocketConnection conn)
        {
            Connections.Add(conn);
            if (!Attach)
                return;
            var transform = new XorTransform { PublishKey = Transforms.Count < PublishKeys.Length ? PublishKeys[Transforms.Count] : 0 };
            Transforms.Add(transform);
            conn.AttachMessageTransform(transform);
        }

        public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
        {
            Messages.Add((opcode, payload.ToArray()));
            if (Echo)
                conn.Send(payload, opcode);
        }

        public void OnClose(WebSocketConnection conn, CloseStatus status)
        {
        }
    }

    /// <summary>Every byte XOR a key; a message that starts with <see cref="Undecodable"/> (once decoded) fails
    /// with 1007.</summary>
    private sealed class XorTransform : IMessageTransform
    {
        public const byte Undecodable = 0xFF ^ Key;
        private const byte Key = 0x3C;
        private readonly byte[] _buffer = new byte[1024];

        public bool Disposed { get; private set; }

        public long PublishKey { get; init; }

        /// <summary>Messages encoded so far.</summary>
        public int Encoded { get; private set; }

        public static byte[] Apply(ReadOnlySpan<byte> data)
        {
            var result = new byte[data.Length];
            for (int i = 0; i < data.Length; i++)
                result[i] = (byte)(data[i] ^ Key);
            return result;
        }

        public bool TryDecode(Span<byte> message, long maxMessageSize, out Span<byte> decoded, out WebSocketCloseCode failure)
        {
            decoded = _buffer.AsSpan(0, message.Length);
            for (int i = 0; i < message.Length; i++)
                decoded[i] = (byte)(message[i] ^ Key);
            failure = WebSocketCloseCode.InvalidPayloadData;
            return decoded.IsEmpty || decoded[0] != 0xFF;
        }

        public bool TryEncode(ReadOnlySpan<byte> message, out ReadOnlySpan<byte> encoded)
        {
            encoded = Apply(message);
            Encoded++;
            return true;
        }

        public void Dispose() => Disposed = true;
    }
}
