using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ObserveError_SwallowsTheFailureOfOnError(bool later)
    {
        using var unobserved = new UnobservedFaults();
        var fault = new InvalidOperationException("the handler failed");
        var onErrorFault = new InvalidOperationException("OnError failed too");
        var record = new Record();

        var control = ServeOneFailure(record, fault, onErrorFault, later);

        // OnError heard of the handler's fault, and its own failure stopped in ObserveError: the dispatcher's call
        // returned normally (the loop would drop an exception from it too, so only the dispatcher can tell).
        Assert.Same(fault, Assert.Single(record.Errors));
        Assert.Empty(record.Escaped);
        // What follows is the same as for any failed handler: the peer gets 1011, the endpoint's OnClose hears of
        // it, the socket is closed, and the loop serves the next connection.
        var close = Assert.Single(record.FramesSent);
        Assert.Equal(WebSocketOpcode.Close, close.Opcode);
        Assert.Equal(1011, (close.Payload[0] << 8) | close.Payload[1]);
        Assert.Equal(WebSocketCloseCode.InternalServerError, Assert.Single(record.Closed).Code);
        Assert.True(record.ServerClosed);
        Assert.True(record.NextConnectionOpened);
        // OnError's failed task was awaited, not left to surface as an UnobservedTaskException once collected (for
        // a pending one, ObserveError had returned long before it failed).
        unobserved.CollectUntilReported(control);
        Assert.DoesNotContain(onErrorFault, unobserved.Faults);
    }

    /// <summary>
    /// Serves a connection through a dispatcher written as the generator writes one for ValueTask handlers; its
    /// message handler fails with <paramref name="fault"/> and OnError with <paramref name="onErrorFault"/>, each at
    /// once (a faulted task) or, when <paramref name="later"/>, after returning a pending task (OnError's fails once
    /// the connection is closed). Records what follows, then opens a second connection. Returns the fault of a task
    /// made here and never observed: once that is reported unobserved, what was made here has been collected.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Exception ServeOneFailure(Record record, Exception fault, Exception onErrorFault, bool later)
    {
        var messageTask = new TaskCompletionSource();
        var errorTask = new TaskCompletionSource();
        var endpoint = new ValueTaskEndpoint(
            record,
            onMessage: () => later ? new ValueTask(messageTask.Task) : ValueTask.FromException(fault),
            onError: () => later ? new ValueTask(errorTask.Task) : ValueTask.FromException(onErrorFault));
        var server = FakeServer.WithDispatcher(new ValueTaskDispatcher(endpoint));
        var client = server.Open();
        client.SendFrame(WebSocketOpcode.Text, "boom"u8);
        if (later)
        {
            Assert.Empty(record.Errors);
            messageTask.SetException(fault);
            // The failure comes back to the loop thread (this one) at once or as posted work: run the loop until
            // OnError was called.
            Assert.True(SpinWait.SpinUntil(() =>
            {
                server.Reactor.RunUntilIdle();
                return record.Errors.Count > 0;
            }, TimeSpan.FromSeconds(30)), "OnError was not called");
        }

        record.FramesSent.AddRange(client.ReadFrames());
        record.ServerClosed = client.ServerClosed;
        if (later)
        {
            errorTask.SetException(onErrorFault);
            server.Reactor.RunUntilIdle();
        }

        server.Open();
        record.NextConnectionOpened = true;

        var control = new InvalidOperationException("a fault nobody observes");
        new TaskCompletionSource().SetException(control);
        return control;
    }

    /// <summary>What <see cref="ServeOneFailure"/> saw; holds nothing of the server, so that it can be collected.</summary>
    private sealed class Record
    {
        public List<Exception> Errors { get; } = [];
        public List<Exception> Escaped { get; } = [];
        public List<CloseStatus> Closed { get; } = [];
        public List<(WebSocketOpcode Opcode, byte[] Payload)> FramesSent { get; } = [];
        public bool ServerClosed { get; set; }
        public bool NextConnectionOpened { get; set; }
    }

    /// <summary>An endpoint with ValueTask handlers, as a <c>[WebSocketEndpoint]</c> class may have.</summary>
    private sealed class ValueTaskEndpoint(Record record, Func<ValueTask> onMessage, Func<ValueTask> onError)
    {
        public Record Record => record;

        public ValueTask OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => onMessage();

        public void OnClose(WebSocketConnection conn, CloseStatus status) => record.Closed.Add(status);

        public ValueTask OnError(WebSocketConnection conn, Exception error)
        {
            record.Errors.Add(error);
            return onError();
        }
    }

    /// <summary>The dispatcher the generator emits for <see cref="ValueTaskEndpoint"/> (see AppEmitter), and a note
    /// of any exception that leaves ObserveError.</summary>
    private readonly struct ValueTaskDispatcher(ValueTaskEndpoint endpoint) : IEndpointDispatcher
    {
        public void OnOpen(int index, WebSocketConnection conn)
        {
        }

        public void OnMessage(int index, WebSocketConnection conn, WebSocketOpcode opcode, ReadOnlySpan<byte> payload) =>
            GeneratedEndpoints.Observe(endpoint.OnMessage(conn, payload, opcode), conn);

        public void OnClose(int index, WebSocketConnection conn, CloseStatus status) => endpoint.OnClose(conn, status);

        public void OnError(int index, WebSocketConnection conn, Exception error)
        {
            try
            {
                GeneratedEndpoints.ObserveError(endpoint.OnError(conn, error));
            }
            catch (Exception escaped)
            {
                endpoint.Record.Escaped.Add(escaped);
                throw;
            }
        }
    }

    /// <summary>Collects the faults that reach <see cref="TaskScheduler.UnobservedTaskException"/> while it lives:
    /// those of faulted tasks that were collected without anyone observing their exception.</summary>
    private sealed class UnobservedFaults : IDisposable
    {
        private readonly ConcurrentQueue<Exception> _faults = new();

        public UnobservedFaults() => TaskScheduler.UnobservedTaskException += OnUnobserved;

        public IEnumerable<Exception> Faults => _faults;

        /// <summary>Collects garbage and runs finalizers until <paramref name="control"/> was reported, then once more.</summary>
        public void CollectUntilReported(Exception control)
        {
            Assert.True(SpinWait.SpinUntil(() =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return _faults.Contains(control);
            }, TimeSpan.FromSeconds(30)), "the control task's fault was never reported unobserved");
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;

        private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            foreach (var inner in e.Exception.Flatten().InnerExceptions)
                _faults.Enqueue(inner);
        }
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
