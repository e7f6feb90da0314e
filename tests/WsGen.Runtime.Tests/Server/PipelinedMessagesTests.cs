using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using WsGen.Protocol;
using WsGen.Tests.Reactor;

namespace WsGen.Tests.Server;

/// <summary>Hundreds of WebSocket messages of 1 to 70,000 bytes, pipelined on one connection and written in random
/// chunks, are each echoed whole and in order, on every reactor (a known io_uring backend elsewhere drops
/// messages over ~2 KB).</summary>
public sealed class PipelinedMessagesTests
{
    public static TheoryData<string> Reactors => TestServers.Reactors;

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task Pipelined_messages_of_1_to_70000_bytes_in_random_chunks_are_each_echoed(string reactor)
    {
        using var server = TestServers.StartEcho(reactor);
        using var socket = new Socket(System.Net.Sockets.AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = 30_000,
            SendTimeout = 30_000,
        };
        socket.Connect(server.LocalEndPoint!);
        socket.SendAll(Encoding.ASCII.GetBytes(RawWebSocket.Request()));
        using var stream = new NetworkStream(socket);
        Assert.StartsWith("HTTP/1.1 101 ", ReadHead(stream));

        int[] sizes = ReactorPipelineTests.MessageSizes(seed: 7, count: 250);
        var payloads = new byte[sizes.Length][];
        var wire = new MemoryStream();
        var frame = new byte[70_000 + 14];
        for (int i = 0; i < sizes.Length; i++)
        {
            payloads[i] = SocketTestExtensions.Pattern(sizes[i], seed: i + 100);
            int length = FrameWriter.WriteFrame(frame, WebSocketOpcode.Binary, true, payloads[i], (uint)(0x9E3779B9 * (i + 1)));
            wire.Write(frame, 0, length);
        }

        byte[] bytes = wire.ToArray();
        var sender = Task.Run(() => ReactorPipelineTests.SendInRandomChunks(socket, bytes, seed: 13));
        for (int i = 0; i < sizes.Length; i++)
        {
            (byte first, byte[] payload) = ReadFrame(stream);
            Assert.Equal(0x80 | (int)WebSocketOpcode.Binary, first);
            Assert.True(payloads[i].AsSpan().SequenceEqual(payload), $"message {i} ({sizes[i]} bytes) came back as {payload.Length} different bytes");
        }

        await sender.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static string ReadHead(NetworkStream stream)
    {
        var head = new List<byte>();
        while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
        {
            int b = stream.ReadByte();
            Assert.True(b >= 0, "the server closed during the handshake");
            head.Add((byte)b);
        }

        return Encoding.ASCII.GetString(head.ToArray());
    }

    /// <summary>One unmasked server frame: its first byte and payload.</summary>
    private static (byte First, byte[] Payload) ReadFrame(NetworkStream stream)
    {
        var header = new byte[8];
        stream.ReadExactly(header, 0, 2);
        byte first = header[0];
        Assert.True((header[1] & 0x80) == 0, "a server frame must not be masked");
        long length = header[1] & 0x7F;
        if (length == 126)
        {
            stream.ReadExactly(header, 0, 2);
            length = BinaryPrimitives.ReadUInt16BigEndian(header);
        }
        else if (length == 127)
        {
            stream.ReadExactly(header, 0, 8);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(header);
        }

        var payload = new byte[length];
        stream.ReadExactly(payload);
        return (first, payload);
    }
}
