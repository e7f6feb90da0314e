namespace WsGen.Tests.Pools;

public class WebSocketFrameReleaseTests
{
    [Fact]
    public void Release_ReturnsTheBufferExactlyOnce()
    {
        var pool = new BytePool(64, buffersPerSlab: 4);
        var (frame, buffer) = PooledFrame(pool);
        Assert.Equal(1, pool.InUse);

        frame.Release();

        Assert.True(frame.IsReleased);
        Assert.Null(frame.PoolRef);
        Assert.True(frame.Payload.IsEmpty);
        Assert.Equal(0, pool.InUse);
        Assert.Equal(4, pool.Available);
        var handedOut = Enumerable.Range(0, 4).Select(_ => pool.Get()).ToList();
        Assert.Equal(1, handedOut.Count(m => m.Span == buffer.Span));
    }

    [Fact]
    public void ReleaseTwice_Throws_AndLeavesThePoolUnchanged()
    {
        var pool = new BytePool(64, buffersPerSlab: 4);
        var (frame, buffer) = PooledFrame(pool);
        var other = pool.Get();
        frame.Release();
        int available = pool.Available;

        Assert.Throws<InvalidOperationException>(frame.Release);

        Assert.Equal(available, pool.Available);
        Assert.Equal(1, pool.InUse);
        // The buffer went back once, so another Put of it is still refused by the pool itself.
        Assert.Throws<InvalidOperationException>(() => pool.Put(buffer));
        pool.Put(other);
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Opcode_AndFin_ComeFromTheHeader()
    {
        var pool = new BytePool(64, buffersPerSlab: 4);
        var (frame, _) = PooledFrame(pool);

        Assert.Equal(WebSocketOpcode.Binary, frame.Opcode);
        Assert.True(frame.IsFinal);
        Assert.Equal([1, 2, 3, 4, 5], frame.Payload.ToArray());
        frame.Release();
    }

    private static (WebSocketFrame Frame, Memory<byte> Buffer) PooledFrame(BytePool pool)
    {
        var buffer = pool.Get();
        buffer.Span[0] = 0x82; // FIN + binary
        buffer.Span[1] = 5;
        byte[] payload = [1, 2, 3, 4, 5];
        payload.CopyTo(buffer.Span[2..]);
        return (new WebSocketFrame(buffer[..2], buffer[2..7], pool, buffer), buffer);
    }
}
