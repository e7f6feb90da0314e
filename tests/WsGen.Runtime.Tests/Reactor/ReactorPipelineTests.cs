using System.Net.Sockets;

namespace WsGen.Tests.Reactor;

/// <summary>Many messages of every size from 1 byte to 70,000 bytes, pipelined on one connection and cut into
/// random chunks, come back intact and in order (a known io_uring backend elsewhere drops messages over ~2 KB).</summary>
public sealed class ReactorPipelineTests
{
    /// <summary>Message sizes: the edges around common buffer sizes, then random sizes up to 70,000 bytes.</summary>
    internal static int[] MessageSizes(int seed, int count)
    {
        int[] edges = [1, 2, 125, 126, 127, 2047, 2048, 2049, 4095, 4096, 4097, 16383, 16384, 16385, 65535, 65536, 65537, 70_000];
        var random = new Random(seed);
        var sizes = new int[edges.Length + count];
        edges.CopyTo(sizes, 0);
        for (int i = edges.Length; i < sizes.Length; i++)
            sizes[i] = random.Next(1, 70_001);
        random.Shuffle(sizes);
        return sizes;
    }

    /// <summary>Sends <paramref name="stream"/> in chunks of random sizes (1 byte up to 100,000), sometimes pausing.</summary>
    internal static void SendInRandomChunks(Socket socket, byte[] stream, int seed)
    {
        var random = new Random(seed);
        int offset = 0;
        while (offset < stream.Length)
        {
            int chunk = random.Next(4) switch
            {
                0 => random.Next(1, 16),
                1 => random.Next(16, 4096),
                2 => random.Next(4096, 32_768),
                _ => random.Next(32_768, 100_000),
            };
            chunk = Math.Min(chunk, stream.Length - offset);
            socket.SendAll(stream.AsSpan(offset, chunk));
            offset += chunk;
            if (random.Next(8) == 0)
                Thread.Sleep(1);
        }
    }

    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public async Task Pipelined_messages_of_1_to_70000_bytes_in_random_chunks_echo_intact(string kind)
    {
        using var harness = new ReactorHarness(kind, new TestHandler());
        using Socket client = harness.Connect();
        int[] sizes = MessageSizes(seed: 5, count: 300);
        var output = new MemoryStream();
        for (int i = 0; i < sizes.Length; i++)
            output.Write(SocketTestExtensions.Pattern(sizes[i], seed: i + 1));
        byte[] stream = output.ToArray();

        var sender = Task.Run(() => SendInRandomChunks(client, stream, seed: 11));
        byte[] received = client.ReceiveExactly(stream.Length);

        await sender.WaitAsync(ReactorHarness.Generous);
        int offset = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            Assert.True(stream.AsSpan(offset, sizes[i]).SequenceEqual(received.AsSpan(offset, sizes[i])), $"message {i} ({sizes[i]} bytes) differs");
            offset += sizes[i];
        }
    }
}
