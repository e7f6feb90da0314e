namespace WsGen.Tests.Server;

/// <summary>The runtime helpers the generated endpoint code calls.</summary>
public sealed class GeneratedEndpointsTests
{
    [Fact]
    public void CreateFrame_CopiesIntoAPoolBuffer_ThatReleaseGivesBack()
    {
        var pool = new BytePool(16, maxBuffers: 1);
        byte[] payload = [1, 2, 3];
        var frame = GeneratedEndpoints.CreateFrame(WebSocketOpcode.Binary, payload, pool);
        Assert.Same(pool, frame.PoolRef);
        Assert.Equal(payload, frame.Payload.ToArray());
        Assert.Equal(WebSocketOpcode.Binary, frame.Opcode);
        Assert.True(frame.IsFinal);
        Assert.Equal(1, pool.InUse);
        frame.Release();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void CreateFrame_FallsBackToAnUnpooledFrame_WhenThePoolIsExhaustedOrTooSmall()
    {
        var pool = new BytePool(4, maxBuffers: 1);
        var held = GeneratedEndpoints.CreateFrame(WebSocketOpcode.Text, "ab"u8, pool);
        var overflow = GeneratedEndpoints.CreateFrame(WebSocketOpcode.Text, "cd"u8, pool);
        held.Release();
        var large = GeneratedEndpoints.CreateFrame(WebSocketOpcode.Binary, new byte[5], pool);

        Assert.Null(overflow.PoolRef);
        Assert.Equal("cd"u8.ToArray(), overflow.Payload.ToArray());
        Assert.Null(large.PoolRef);
        Assert.Equal(5, large.Payload.Length);
        overflow.Release();
        large.Release();
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Observe_CompletedTask_ReturnsAndFaultedTask_Throws()
    {
        GeneratedEndpoints.Observe(default, conn: null!);
        var error = new InvalidOperationException("x");
        Assert.Same(error, Assert.Throws<InvalidOperationException>(() => GeneratedEndpoints.Observe(ValueTask.FromException(error), null!)));
    }

    [Fact]
    public void ObserveError_SwallowsTheFailureOfOnError()
    {
        GeneratedEndpoints.ObserveError(ValueTask.FromException(new InvalidOperationException()));
        var pending = new TaskCompletionSource();
        GeneratedEndpoints.ObserveError(new ValueTask(pending.Task));
        pending.SetException(new InvalidOperationException());
    }

    [Fact]
    public void ServerOptions_LoopSizes_SetTheSizes_KeepTheRest_AndLowerThePauseThreshold()
    {
        // What the generated CreateServer does with the attributes' sizes: the public properties are views of the
        // loop settings, and a backpressure limit below the pause threshold lowers the threshold the loops run with.
        var pool = new BytePool(64);
        var options = new WebSocketServerOptions
        {
            ReactorOptions = new ReactorOptions
            {
                SendBufferSize = 1000,
                PauseReadingThreshold = 300_000,
                DrainTimeout = TimeSpan.FromSeconds(9),
                LingerTimeout = TimeSpan.FromSeconds(3),
                BackpressurePool = pool,
                Backlog = 7,
                ReusePort = true,
                SocketSendBufferSize = 11,
                SocketReceiveBufferSize = 13,
            },
        };
        options.ReceiveBufferSize = 4096;
        options.MaxBackpressure = 200_000;
        Assert.Equal(300_000, options.PauseReadingThreshold);

        var sized = options.EffectiveReactorOptions;
        Assert.Equal(4096, sized.ReceiveBufferSize);
        Assert.Equal(200_000, sized.MaxBackpressure);
        Assert.Equal(200_000, sized.PauseReadingThreshold);
        Assert.Equal(1000, sized.SendBufferSize);
        Assert.Equal(TimeSpan.FromSeconds(9), sized.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), sized.LingerTimeout);
        Assert.Same(pool, sized.BackpressurePool);
        Assert.Equal(7, sized.Backlog);
        Assert.True(sized.ReusePort);
        Assert.Equal(11, sized.SocketSendBufferSize);
        Assert.Equal(13, sized.SocketReceiveBufferSize);

        options.MaxBackpressure = 400_000;
        Assert.Same(options.ReactorOptions, options.EffectiveReactorOptions);
    }
}
