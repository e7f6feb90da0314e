using WsGen.Reactor;

namespace WsGen.Tests.Reactor;

public sealed unsafe class NativeChunksTests
{
    [Fact]
    public void Chunks_are_distinct_until_returned_then_reused_last_in_first_out()
    {
        using var chunks = new NativeChunks(512);
        var rented = new HashSet<nint>();
        for (int i = 0; i < 300; i++)   // more than one 64 KiB slab holds
        {
            byte* chunk = chunks.Rent();
            Assert.True(rented.Add((nint)chunk));
            new Span<byte>(chunk, 512).Fill((byte)i);
        }

        foreach (nint a in rented)
        {
            foreach (nint b in rented)
                Assert.True(a == b || Math.Abs(a - b) >= 512, "chunks overlap");
        }

        byte* first = (byte*)rented.First();
        byte* second = (byte*)rented.Last();
        chunks.Return(first);
        chunks.Return(second);
        Assert.Equal((nint)second, (nint)chunks.Rent());
        Assert.Equal((nint)first, (nint)chunks.Rent());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(300)]
    public void The_chunk_size_must_divide_the_slab(int size)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new NativeChunks(size));
}
