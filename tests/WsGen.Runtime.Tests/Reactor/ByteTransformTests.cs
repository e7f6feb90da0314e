using System.Text;
using WsGen.Transport;

namespace WsGen.Tests.Reactor;

/// <summary>The connection core's byte transform seam (where TLS plugs in), on every loop and the fake: input passes
/// the transform before the handler, the handler's writes pass it before the socket, bytes the transform sends of its
/// own keep their order, backpressure holds, and a graceful close lets the transform speak last.</summary>
public sealed class ByteTransformTests
{
    private const byte Key = 0x5A;

    public static TheoryData<string> Kinds => ReactorHarness.Kinds;

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Echo_passes_the_transform_both_ways_in_order(string kind)
    {
        var transforms = new List<XorTransform>();
        var handler = new TestHandler { OpenHook = conn => conn.AttachTransform(Add(transforms, new XorTransform(Key))) };
        using var harness = new ReactorHarness(kind, handler);
        using var client = harness.Connect();

        // 300 KB: more than the loop's pause threshold, so the echo waits, pauses reading and resumes, all encoded.
        byte[] message = SocketTestExtensions.Pattern(300_000);
        var sender = Task.Run(() => client.SendAll(Xor(message)));
        byte[] received = Xor(client.ReceiveExactly(XorTransform.Greeting.Length + message.Length));
        await sender.WaitAsync(ReactorHarness.Generous);

        Assert.Equal(XorTransform.Greeting, received[..XorTransform.Greeting.Length]);
        Assert.Equal(message, received[XorTransform.Greeting.Length..]);
        Assert.True(harness.OnLoop(() => transforms.Single().BytesIn) > 0);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_graceful_close_lets_the_transform_send_last_then_releases_it(string kind)
    {
        var transforms = new List<XorTransform>();
        var handler = new TestHandler
        {
            OpenHook = conn => conn.AttachTransform(Add(transforms, new XorTransform(Key))),
            DataHook = (conn, data) =>
            {
                conn.Write(data);
                conn.Close();
            },
        };
        using var harness = new ReactorHarness(kind, handler);
        using var client = harness.Connect();
        client.SendAll(Xor("ping"u8.ToArray()));

        byte[] all = Xor(client.ReceiveToEnd());
        Assert.Equal(Encoding.ASCII.GetString(XorTransform.Greeting) + "ping" + Encoding.ASCII.GetString(XorTransform.Farewell), Encoding.ASCII.GetString(all));
        Assert.True(SocketTestExtensions.WaitUntil(() => handler.CloseCounts.Values.Sum() == 1));
        Assert.True(harness.OnLoop(() => transforms.Single().Disposed));
    }

    [Fact]
    public void The_fake_loop_in_memory_runs_the_same_seam()
    {
        var handler = new TestHandler { OpenHook = conn => conn.AttachTransform(new XorTransform(Key)) };
        using var reactor = new FakeReactor(handler);
        var (server, client) = InMemoryConn.CreatePair();
        reactor.Open(server);
        client.Write(Xor("abc"u8.ToArray()));
        reactor.RunUntilIdle();

        var buffer = new byte[64];
        int n = client.Read(buffer);
        Assert.Equal(Encoding.ASCII.GetString(XorTransform.Greeting) + "abc", Encoding.ASCII.GetString(Xor(buffer[..n])));
    }

    [Fact]
    public void A_transformed_connection_declines_in_place_writes()
    {
        IReactorConn? seen = null;
        int corked = -1;
        var handler = new TestHandler
        {
            OpenHook = conn => conn.AttachTransform(new XorTransform(Key)),
            DataHook = (conn, _) =>
            {
                seen = (IReactorConn)conn;
                corked = ((ICorkedOutput)conn).TakeCorked(4).Length;
            },
        };
        using var reactor = new FakeReactor(handler);
        var (server, client) = InMemoryConn.CreatePair();
        reactor.Open(server);
        client.Write(Xor("x"u8.ToArray()));
        reactor.RunUntilIdle();

        Assert.NotNull(seen);
        Assert.Equal(0, corked);
    }

    private static T Add<T>(List<T> list, T item)
    {
        lock (list)
            list.Add(item);
        return item;
    }

    private static byte[] Xor(byte[] data)
    {
        var result = new byte[data.Length];
        for (int i = 0; i < data.Length; i++)
            result[i] = (byte)(data[i] ^ Key);
        return result;
    }

    /// <summary>Every byte XOR a key, both ways; a greeting of its own on the first input (as a TLS handshake would
    /// answer) and a farewell when the handler closes (as TLS's close_notify).</summary>
    private sealed class XorTransform(byte key) : IByteTransform
    {
        public static readonly byte[] Greeting = "hello:"u8.ToArray();
        public static readonly byte[] Farewell = ":bye"u8.ToArray();

        private readonly byte[] _scratch = new byte[16 * 1024];
        private bool _greeted;

        public long BytesIn { get; private set; }

        public bool Disposed { get; private set; }

        public void Received(ITransformHost host, IReactorConn conn, Span<byte> data)
        {
            if (!_greeted)
            {
                _greeted = true;
                Send(host, conn, Greeting);
            }

            BytesIn += data.Length;
            for (int offset = 0; offset < data.Length; offset += _scratch.Length)
            {
                int n = Math.Min(_scratch.Length, data.Length - offset);
                Encode(data.Slice(offset, n));
                host.Deliver(conn, _scratch.AsSpan(0, n));
            }
        }

        public bool Write(ITransformHost host, IReactorConn conn, ReadOnlySpan<byte> data) => Send(host, conn, data);

        public void Closing(ITransformHost host, IReactorConn conn) => Send(host, conn, Farewell);

        public void Dispose() => Disposed = true;

        private bool Send(ITransformHost host, IReactorConn conn, ReadOnlySpan<byte> data)
        {
            for (int offset = 0; offset < data.Length; offset += _scratch.Length)
            {
                int n = Math.Min(_scratch.Length, data.Length - offset);
                Encode(data.Slice(offset, n));
                if (!host.SendEncoded(conn, _scratch.AsSpan(0, n)))
                    return false;
            }

            return true;
        }

        private void Encode(ReadOnlySpan<byte> data)
        {
            for (int i = 0; i < data.Length; i++)
                _scratch[i] = (byte)(data[i] ^ key);
        }
    }
}
