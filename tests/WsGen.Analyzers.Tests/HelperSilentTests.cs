using static WsGen.Analyzers.Tests.Code;

namespace WsGen.Analyzers.Tests;

/// <summary>Code across methods and through the new aliases on which every rule must stay silent: helpers that only
/// read, release another parameter, keep the frame; recursion, virtual and interface calls (unknown, not released);
/// fields reassigned or possibly reassigned; copies taken before the release; delegates invoked after the last use.</summary>
public sealed class HelperSilentTests
{
    [Fact]
    public Task Silent_HelperOnlyReadsBeforeRelease() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            Show(frame);
            frame.Release();
        }
        void Show(WebSocketFrame x) => UseMemory(x.Payload);
        """);

    [Fact]
    public Task Silent_HelperReleasesAnotherParameter() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            ReleaseSecond(f, g);
            UseMemory(f.Payload);
            f.Release();
        }
        void ReleaseSecond(WebSocketFrame a, WebSocketFrame b) => b.Release();
        """);

    [Fact]
    public Task Silent_HelperStoresFrameInField() => Verify("""
        WebSocketFrame _held;
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            Hold(frame);
        }
        void Hold(WebSocketFrame x) => _held = x;
        """);

    [Fact]
    public Task Silent_HelperQueuesFrame() => Verify("""
        readonly Queue<WebSocketFrame> _queue = new();
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            Enqueue(f);
        }
        void Enqueue(WebSocketFrame x)
        {
            UseMemory(x.Payload);
            _queue.Enqueue(x);
        }
        """);

    [Fact]
    public Task Silent_HelperReturnsFrame() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            var same = Pass(frame);
            same.Release();
        }
        WebSocketFrame Pass(WebSocketFrame x) => x;
        """);

    [Fact]
    public Task Silent_HelperReleasesOnEveryPath() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            UseMemory(frame.Payload);
            Finish(frame);
        }
        void Finish(WebSocketFrame x)
        {
            if (x.IsFinal)
                x.Release();
            else
                x.Release();
        }
        """);

    [Fact]
    public Task Silent_NullCheckingHelper() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            SafeFinish(frame);
        }
        void SafeFinish(WebSocketFrame? x)
        {
            if (x is null)
                return;
            x.Release();
        }
        """.Replace("WebSocketFrame? x", "WebSocketFrame x"));

    [Fact]
    public Task Silent_ExtensionReleasesAfterLastUse() => VerifyWith("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            UseMemory(f.Payload);
            f.Finish();
        }
        """, """

        static class FrameExtensions
        {
            public static void Finish(this WebSocketFrame frame) => frame.Release();
        }

        """);

    [Fact]
    public Task Silent_CopyBeforeHelperRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            var copy = f.Payload.ToArray();
            Finish(f);
            Use(copy);
        }
        void Finish(WebSocketFrame x) => x.Release();
        """);

    [Fact]
    public Task Silent_RecursiveHelperIsUnknown() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            Drain(frame, 3);
            UseMemory(frame.Payload);
        }
        void Drain(WebSocketFrame x, int n)
        {
            if (n > 0)
                Drain(x, n - 1);
            else
                x.Release();
        }
        """);

    [Fact]
    public Task Silent_MutuallyRecursiveHelpersAreUnknown() => Verify("""
        void M(WebSocketFrame f)
        {
            Ping(f, 2);
            UseMemory(f.Payload);
            Pong(f, 2);
        }
        void Ping(WebSocketFrame x, int n)
        {
            if (n == 0)
                x.Release();
            else
                Pong(x, n - 1);
        }
        void Pong(WebSocketFrame y, int n)
        {
            if (n == 0)
                y.Release();
            else
                Ping(y, n - 1);
        }
        """);

    [Fact]
    public Task Silent_HelperCallingRecursiveHelperIsUnknown() => Verify("""
        void M(WebSocketFrame f)
        {
            Outer(f);
            UseMemory(f.Payload);
        }
        void Outer(WebSocketFrame x)
        {
            x.Release();
            Loop(x, 1);
        }
        void Loop(WebSocketFrame y, int n)
        {
            if (n > 0)
                Loop(y, n - 1);
        }
        """);

    [Fact]
    public Task Silent_VirtualHelperMayBeOverridden() => Verify("""
        protected virtual void Finish(WebSocketFrame x) => x.Release();
        void M(WebSocketFrame f)
        {
            Finish(f);
            UseMemory(f.Payload);
        }
        """);

    [Fact]
    public Task Silent_InterfaceCallIsUnknown() => VerifyWith("""
        void M(IFinisher finisher, WebSocketFrame f)
        {
            finisher.Finish(f);
            UseMemory(f.Payload);
        }
        """, """

        interface IFinisher
        {
            void Finish(WebSocketFrame frame);
        }

        """);

    [Fact]
    public Task Silent_MetadataCallIsUnknown() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            GC.KeepAlive(frame);
        }
        """);

    [Fact]
    public Task Silent_HelperReassigningItsParameterIsUnknown() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            Swap(f, g);
            UseMemory(f.Payload);
        }
        void Swap(WebSocketFrame x, WebSocketFrame y)
        {
            x = y;
            x.Release();
        }
        """);

    [Fact]
    public Task Silent_AwaitedHelperReadsThenCallerReleases() => Verify("""
        async Task M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            await ForwardAsync(f);
            f.Release();
        }
        async Task ForwardAsync(WebSocketFrame x) => await SendAsync(x.Payload);
        """);

    [Fact]
    public Task Silent_HelperReleasesOnSomePathThenGuarded() => Verify("""
        void M(WebSocketFrame f)
        {
            MaybeFinish(f, Check());
            if (!f.IsReleased)
                f.Release();
        }
        void MaybeFinish(WebSocketFrame x, bool c)
        {
            if (c)
                x.Release();
        }
        """);

    [Fact]
    public Task Silent_HelperReleasingOnlyWhereTheFrameIsNull() => Verify("""
        void M(WebSocketFrame f)
        {
            if (f is null)
                SafeFinish(f);
            UseMemory(f.Payload);
            f.Release();
        }
        void SafeFinish(WebSocketFrame x) => x?.Release();
        """);

    [Fact]
    public Task Silent_FrameAsObjectArgumentIsHandedOn() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            Log(frame);
        }
        static void Log(object value) { }
        """);
}
