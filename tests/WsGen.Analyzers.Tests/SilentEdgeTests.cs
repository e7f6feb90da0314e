using static WsGen.Analyzers.Tests.Code;

namespace WsGen.Analyzers.Tests;

/// <summary>More idiomatic shapes (exception handling, patterns, async, nested functions) that must stay silent.</summary>
public sealed class SilentEdgeTests
{
    [Fact]
    public Task Silent_ReleaseAtEndOfTryWithFinallyLogging() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            try
            {
                UseMemory(f.Payload);
                f.Release();
            }
            finally
            {
                Console.WriteLine("done");
            }
        }
        """);

    [Fact]
    public Task Silent_ReleaseInCatchAndAfterTry() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            try
            {
                UseMemory(f.Payload);
            }
            catch (Exception)
            {
                f.Release();
                return;
            }
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_NestedTryFinallyInReadLoop() => Verify("""
        async Task M(IWebSocketConn conn)
        {
            while (conn.IsOpen)
            {
                var f = conn.ReadFrame();
                try
                {
                    try
                    {
                        await SendAsync(f.Payload);
                    }
                    finally
                    {
                        Console.WriteLine(f.Payload.Length);
                    }
                }
                finally
                {
                    f.Release();
                }
            }
        }
        """);

    [Fact]
    public Task Silent_ReturnFromTryWithReleaseInFinally() => Verify("""
        int M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            try
            {
                if (f.Payload.IsEmpty)
                    return 0;
                return f.Payload.Span[0];
            }
            finally
            {
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_UsingBlockAroundUse() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            using (var stream = new System.IO.MemoryStream())
            {
                stream.Write(f.Payload.Span);
            }
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_LockAroundUseAndRelease() => Verify("""
        readonly object _gate = new();
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            lock (_gate)
            {
                UseMemory(f.Payload);
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_SwitchExpressionOnOpcodeThenRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var kind = f.Opcode switch
            {
                WebSocketOpcode.Text => System.Text.Encoding.UTF8.GetString(f.Payload.Span),
                _ => Convert.ToBase64String(f.Payload.Span),
            };
            f.Release();
            Console.WriteLine(kind);
        }
        """);

    [Fact]
    public Task Silent_PatternDeclaredFrame() => Verify("""
        void M(object o)
        {
            if (o is WebSocketFrame frame)
            {
                UseMemory(frame.Payload);
                frame.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_FrameFromTupleDeconstruction() => Verify("""
        void M((WebSocketFrame, int) pair)
        {
            var (f, n) = pair;
            f.Release();
            (f, n) = pair;
            UseMemory(f.Payload);
        }
        """);

    [Fact]
    public Task Silent_OutParameterRefreshesFrame() => Verify("""
        static bool TryNext(out WebSocketFrame frame) { frame = null; return false; }
        void M(WebSocketFrame f)
        {
            f.Release();
            if (TryNext(out f))
                UseMemory(f.Payload);
        }
        """);

    [Fact]
    public Task Silent_GotoRetryWithFreshFrame() => Verify("""
        void M(IWebSocketConn conn)
        {
        retry:
            var f = conn.ReadFrame();
            if (f.Payload.IsEmpty)
            {
                f.Release();
                goto retry;
            }
            UseMemory(f.Payload);
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_NullCoalescingFrame() => Verify("""
        void M(WebSocketFrame a, WebSocketFrame b)
        {
            var f = a ?? b;
            UseMemory(f.Payload);
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_ReleaseGuardedByStoredIsReleased() => Verify("""
        void M(WebSocketFrame f, bool c)
        {
            if (c)
                f.Release();
            var done = f.IsReleased;
            if (!done)
                f.Release();
        }
        """);

    [Fact]
    public Task Silent_FramesInArrayReleasedInLoop() => Verify("""
        void M(WebSocketFrame[] frames)
        {
            foreach (var f in frames)
            {
                UseMemory(f.Payload);
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_RecursiveLocalFunction() => Verify("""
        void M(IWebSocketConn conn)
        {
            Pump(3);

            void Pump(int left)
            {
                if (left == 0)
                    return;
                var f = conn.ReadFrame();
                UseMemory(f.Payload);
                f.Release();
                Pump(left - 1);
            }
        }
        """);

    [Fact]
    public Task Silent_LambdaInReadLoopCapturesFreshFrame() => Verify("""
        void M(IWebSocketConn conn, List<Action> work)
        {
            while (conn.IsOpen)
            {
                var f = conn.ReadFrame();
                work.Add(() =>
                {
                    UseMemory(f.Payload);
                    f.Release();
                });
            }
        }
        """);

    [Fact]
    public Task Silent_AwaitForeachOverFrames() => Verify("""
        async Task M(IAsyncEnumerable<WebSocketFrame> frames)
        {
            await foreach (var f in frames)
            {
                await SendAsync(f.Payload);
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_OnMessageReleasesInEveryBranch() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            if (frame.Opcode == WebSocketOpcode.Text)
            {
                conn.Send(frame.Payload.Span, WebSocketOpcode.Text);
                frame.Release();
            }
            else
            {
                frame.Release();
                conn.Close();
            }
        }
        """);

    [Fact]
    public Task Silent_OnMessageReleaseInFinally() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            try
            {
                conn.Send(frame.Payload.Span);
            }
            finally
            {
                frame.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_OnMessageThrowsWithoutRelease() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            if (frame.Payload.Length > 1024)
                throw new InvalidOperationException("too big");
            frame.Release();
        }
        """);

    [Fact]
    public Task Silent_FrameStoredInUserState() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            conn.UserState = frame;
        }
        """);

    [Fact]
    public Task Silent_ConditionalReleaseByOwnershipFlag() => Verify("""
        void M(IWebSocketConn conn, bool keep, List<WebSocketFrame> kept)
        {
            var f = conn.ReadFrame();
            if (keep)
                kept.Add(f);
            else
                f.Release();
        }
        """);
}
