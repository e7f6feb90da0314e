using WsGen.Transport;

namespace WsGen.Tests.Transport;

public sealed class SendQueueTests
{
    [Fact]
    public void Keeps_bytes_in_order_across_segments_and_returns_every_buffer()
    {
        var pool = new CountingPool(1000);
        var queue = new SendQueue(pool);
        byte[] data = new byte[100_000];
        new Random(1).NextBytes(data);

        queue.Append(data.AsSpan(0, 10));
        queue.Append(data.AsSpan(10, 40_000));
        queue.Append(data.AsSpan(40_010));
        Assert.Equal(data.Length, queue.Length);
        Assert.Equal(1, pool.Outstanding);

        var output = new List<byte>();
        while (!queue.IsEmpty)
        {
            ReadOnlySpan<byte> first = queue.First;
            int take = Math.Min(first.Length, 3001);
            output.AddRange(first[..take].ToArray());
            queue.Consume(take);
        }

        Assert.Equal(data, output.ToArray());
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public void Clear_returns_the_pooled_buffer()
    {
        var pool = new CountingPool(64);
        var queue = new SendQueue(pool);
        queue.Append(new byte[500]);
        queue.Consume(10);

        queue.Clear();

        Assert.True(queue.IsEmpty);
        Assert.Equal(0, pool.Outstanding);
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Consume(1));
    }

    private sealed class CountingPool(int size) : IBytePool
    {
        public int Outstanding;

        public int BufferSize => size;

        public Memory<byte> Get()
        {
            Outstanding++;
            return new byte[size];
        }

        public void Put(Memory<byte> buffer)
        {
            Assert.Equal(size, buffer.Length);
            Outstanding--;
        }
    }
}
