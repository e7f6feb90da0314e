using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace WsGen.Tests.Pools;

public class BytePoolTests
{
    [Fact]
    public void Constructor_DefaultSlabHoldsAboutOneMebibyteAndAtLeastOneBuffer()
    {
        Assert.Equal(256, new BytePool(4096).BuffersPerSlab);
        Assert.Equal(1, new BytePool(4 << 20).BuffersPerSlab);
        Assert.Equal(3, new BytePool(100, buffersPerSlab: 3).BuffersPerSlab);
    }

    [Fact]
    public void Constructor_RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BytePool(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BytePool(64, buffersPerSlab: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BytePool(64, maxBuffers: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BytePool(1 << 20, buffersPerSlab: 4096));
    }

    [Fact]
    public void Get_ReturnsBuffersOfBufferSize_AndGrowsOneSlabAtATime()
    {
        var pool = new BytePool(100, buffersPerSlab: 4);
        Assert.Equal(0, pool.Capacity);

        var buffer = pool.Get();

        Assert.Equal(100, buffer.Length);
        Assert.Equal(4, pool.Capacity);
        Assert.Equal(1, pool.SlabCount);
        Assert.Equal(3, pool.Available);
        Assert.Equal(1, pool.InUse);
    }

    [Fact]
    public void PutThenGet_ReusesTheSameMemory()
    {
        var pool = new BytePool(256, buffersPerSlab: 8);
        var first = pool.Get();
        first.Span.Fill(0xAB);

        pool.Put(first);
        var second = pool.Get();

        Assert.True(first.Span == second.Span, "the buffer returned last should be handed out again");
        Assert.Equal(1, pool.InUse);
        Assert.Equal(8, pool.Capacity);
    }

    [Fact]
    public void Buffers_NeverOverlap_AcrossSeveralSlabs()
    {
        const int size = 100, perSlab = 7, count = perSlab * 5 + 3;
        var pool = new BytePool(size, buffersPerSlab: perSlab);
        var buffers = new Memory<byte>[count];
        for (int i = 0; i < count; i++)
        {
            buffers[i] = pool.Get();
            buffers[i].Span.Fill((byte)(i + 1));
        }

        Assert.Equal(6, pool.SlabCount);
        Assert.Equal(6 * perSlab, pool.Capacity);
        Assert.Equal(count, pool.InUse);
        AssertDisjointAndIntact(buffers);

        // After a full round trip the pool hands out the same set again, still disjoint.
        foreach (var buffer in buffers)
            pool.Put(buffer);
        Assert.Equal(0, pool.InUse);
        for (int i = 0; i < count; i++)
        {
            buffers[i] = pool.Get();
            buffers[i].Span.Fill((byte)(200 - i));
        }

        Assert.Equal(6, pool.SlabCount);
        for (int i = 0; i < count; i++)
            Assert.True(buffers[i].Span.IndexOfAnyExcept((byte)(200 - i)) < 0, $"buffer {i} was clobbered");
    }

    [Fact]
    public void PutTwice_Throws_AndThePoolStillHandsOutEachBufferOnce()
    {
        var pool = new BytePool(64, buffersPerSlab: 4);
        var a = pool.Get();
        var b = pool.Get();
        pool.Put(a);
        int available = pool.Available;

        Assert.Throws<InvalidOperationException>(() => pool.Put(a));

        Assert.Equal(available, pool.Available);
        Assert.Equal(1, pool.InUse);
        var all = new List<Memory<byte>> { b };
        while (pool.Available > 0)
            all.Add(pool.Get());
        Assert.Equal(4, all.Count);
        Assert.Equal(1, all.Count(m => m.Span == a.Span));
        AssertDistinct(all);
    }

    [Fact]
    public void Put_ForeignBuffers_Throw_AndLeaveThePoolIntact()
    {
        var pool = new BytePool(64, buffersPerSlab: 4);
        var other = new BytePool(64, buffersPerSlab: 4);
        var owned = pool.Get();
        Assert.True(MemoryMarshal.TryGetArray<byte>(owned, out var segment));
        byte[] slab = segment.Array!;
        Assert.Equal(0, segment.Offset);

        var bad = new (string Name, Memory<byte> Buffer)[]
        {
            ("plain array", new byte[64]),
            ("another pool's buffer", other.Get()),
            ("default", default),
            ("slice at the start", owned[..32]),
            ("slice in the middle", owned.Slice(1, 32)),
            ("misaligned, right length", new Memory<byte>(slab, 1, 64)),
            ("two buffers", new Memory<byte>(slab, 0, 128)),
            ("free buffer never handed out", new Memory<byte>(slab, 64, 64)),
        };

        foreach (var (name, buffer) in bad)
        {
            var error = Record.Exception(() => pool.Put(buffer));
            Assert.True(error is InvalidOperationException, $"{name}: expected InvalidOperationException, got {error?.GetType().Name ?? "none"}");
            Assert.Equal(1, pool.InUse);
            Assert.Equal(3, pool.Available);
        }

        pool.Put(owned);
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void MaxBuffers_Reached_TryGetReturnsFalse_AndGetThrows()
    {
        var pool = new BytePool(32, buffersPerSlab: 4, maxBuffers: 6);
        var buffers = new List<Memory<byte>>();
        for (int i = 0; i < 6; i++)
            buffers.Add(pool.Get());

        Assert.Equal(6, pool.Capacity);
        Assert.Equal(2, pool.SlabCount);
        Assert.False(pool.TryGet(out var none));
        Assert.True(none.IsEmpty);
        var error = Assert.Throws<InvalidOperationException>(() => pool.Get());
        Assert.Contains("6", error.Message);
        AssertDistinct(buffers);

        pool.Put(buffers[5]);
        Assert.True(pool.TryGet(out var again));
        Assert.True(again.Span == buffers[5].Span);
    }

    [Fact]
    public void ConcurrentGetAndPut_NeverHandOutABufferTwice_AndKeepCountsConsistent()
    {
        const int size = 64, maxBuffers = 48, threads = 4, iterations = 20_000;
        var pool = new BytePool(size, buffersPerSlab: 16, maxBuffers: maxBuffers);

        // Carve every slab up front so that the test can name each buffer by (slab, offset).
        var warm = new List<Memory<byte>>();
        while (pool.TryGet(out var buffer))
            warm.Add(buffer);
        var slabs = warm.Select(m => { MemoryMarshal.TryGetArray<byte>(m, out var s); return s.Array!; }).Distinct().ToArray();
        foreach (var buffer in warm)
            pool.Put(buffer);

        int IdOf(Memory<byte> buffer)
        {
            MemoryMarshal.TryGetArray<byte>(buffer, out var s);
            return Array.IndexOf(slabs, s.Array) * 16 + s.Offset / size;
        }

        var owners = new int[maxBuffers];
        var shared = new ConcurrentQueue<Memory<byte>>();
        int failures = 0;
        var workers = Enumerable.Range(1, threads).Select(threadId => new Thread(() =>
        {
            var held = new Queue<Memory<byte>>();
            for (int i = 0; i < iterations; i++)
            {
                if (pool.TryGet(out var buffer))
                {
                    int id = IdOf(buffer);
                    if (id < 0 || Interlocked.CompareExchange(ref owners[id], threadId, 0) != 0)
                        Interlocked.Increment(ref failures);
                    buffer.Span.Fill((byte)threadId);
                    held.Enqueue(buffer);
                }

                if (held.Count > 3 || (held.Count > 0 && i % 3 == 0))
                {
                    var mine = held.Dequeue();
                    if (mine.Span.IndexOfAnyExcept((byte)threadId) >= 0)
                        Interlocked.Increment(ref failures);
                    // Every other buffer goes back through another thread, like a frame released elsewhere.
                    if (i % 2 == 0)
                    {
                        if (Interlocked.CompareExchange(ref owners[IdOf(mine)], -1, threadId) != threadId)
                            Interlocked.Increment(ref failures);
                        shared.Enqueue(mine);
                    }
                    else
                    {
                        Release(mine, threadId);
                    }
                }

                if (shared.TryDequeue(out var foreign))
                    Release(foreign, -1);
            }

            while (held.Count > 0)
                Release(held.Dequeue(), threadId);
        })).ToList();

        void Release(Memory<byte> buffer, int expectedOwner)
        {
            if (Interlocked.CompareExchange(ref owners[IdOf(buffer)], 0, expectedOwner) != expectedOwner)
                Interlocked.Increment(ref failures);
            pool.Put(buffer);
        }

        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        while (shared.TryDequeue(out var rest))
            Release(rest, -1);

        Assert.Equal(0, failures);
        Assert.Equal(maxBuffers, pool.Capacity);
        Assert.Equal(maxBuffers, pool.Available);
        Assert.Equal(0, pool.InUse);
        Assert.All(owners, owner => Assert.Equal(0, owner));
    }

    [Fact]
    public void GetAndPut_AllocateNothing_OnceWarm()
    {
        var pool = new BytePool(4096);
        for (int i = 0; i < 1_000; i++)
            pool.Put(pool.Get());
        Assert.True(pool.TryGet(out var warm));
        pool.Put(warm);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100_000; i++)
        {
            var buffer = pool.Get();
            pool.Put(buffer);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(0, pool.InUse);
    }

    private static void AssertDisjointAndIntact(Memory<byte>[] buffers)
    {
        for (int i = 0; i < buffers.Length; i++)
            Assert.True(buffers[i].Span.IndexOfAnyExcept((byte)(i + 1)) < 0, $"buffer {i} was clobbered by another");
        AssertDistinct(buffers);
    }

    private static void AssertDistinct(IReadOnlyList<Memory<byte>> buffers)
    {
        for (int i = 0; i < buffers.Count; i++)
        {
            for (int j = i + 1; j < buffers.Count; j++)
                Assert.False(buffers[i].Span.Overlaps(buffers[j].Span), $"buffers {i} and {j} overlap");
        }
    }
}
