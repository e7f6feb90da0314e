using static WsGen.Analyzers.Tests.Code;

namespace WsGen.Analyzers.Tests;

/// <summary>WSG002 (double release) and WSG003 (frame never released) cases that must report.</summary>
public sealed class OtherReportTests
{
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor Double = DiagnosticDescriptors.DoubleRelease;
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor Leak = DiagnosticDescriptors.FrameNotReleased;

    [Fact]
    public Task Reports_DoubleRelease_StraightLine() => Verify("""
        void M(WebSocketFrame f)
        {
            f.Release();
            {|#0:f.Release()|};
        }
        """, At(Double, 0, "f.Release()", "on every path"));

    [Fact]
    public Task Reports_DoubleRelease_SomePath() => Verify("""
        void M(WebSocketFrame f, bool c)
        {
            if (c)
                f.Release();
            {|#0:f.Release()|};
        }
        """, At(Double, 0, "f.Release()", "on some path"));

    [Fact]
    public Task Reports_DoubleRelease_ThroughAlias() => Verify("""
        void M(WebSocketFrame f)
        {
            var g = f;
            f.Release();
            {|WSG002:g.Release()|};
        }
        """);

    [Fact]
    public Task Reports_DoubleRelease_InNextLoopIteration() => Verify("""
        void M(WebSocketFrame f)
        {
            while (Check())
            {
                {|#0:f.Release()|};
            }
        }
        """, At(Double, 0, "f.Release()", "on some path"));

    [Fact]
    public Task Reports_DoubleRelease_ConditionalAccess() => Verify("""
        void M(WebSocketFrame f)
        {
            f.Release();
            f?{|WSG002:.Release()|};
        }
        """);

    [Fact]
    public Task Reports_DoubleRelease_TryAndFinally() => Verify("""
        void M(WebSocketFrame f)
        {
            try
            {
                f.Release();
            }
            finally
            {
                {|WSG002:f.Release()|};
            }
        }
        """);

    [Fact]
    public Task Reports_DoubleRelease_ByLocalFunction() => Verify("""
        void M(WebSocketFrame f)
        {
            f.Release();
            Done();

            void Done() => {|WSG002:f.Release()|};
        }
        """);

    [Fact]
    public Task Reports_DoubleRelease_AfterAwait() => Verify("""
        async Task M(WebSocketFrame f)
        {
            f.Release();
            await Task.Yield();
            {|WSG002:f.Release()|};
        }
        """);

    [Fact]
    public Task Reports_ReadFrameNeverReleased() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = {|#0:conn.ReadFrame()|};
            UseMemory(f.Payload);
        }
        """, At(Leak, 0, "conn.ReadFrame()", "M"));

    [Fact]
    public Task Reports_ReadFrameReleasedOnOneBranchOnly() => Verify("""
        void M(IWebSocketConn conn, bool c)
        {
            var f = {|WSG003:conn.ReadFrame()|};
            if (c)
                f.Release();
        }
        """);

    [Fact]
    public Task Reports_OnMessageEarlyReturnWithoutRelease() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame {|#0:frame|})
        {
            if (frame.Payload.IsEmpty)
                return;
            conn.Send(frame.Payload.Span);
            frame.Release();
        }
        """, At(Leak, 0, "frame", "OnMessage"));

    [Fact]
    public Task Reports_WriteFrameKeepsOwnership() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = {|WSG003:conn.ReadFrame()|};
            conn.WriteFrame(f);
        }
        """);

    [Fact]
    public Task Reports_ReadFrameLeakedInLambda() => Verify("""
        void M(IWebSocketConn conn)
        {
            Action read = () =>
            {
                var f = {|#0:conn.ReadFrame()|};
                Use(f.Payload.Span);
            };
        }
        """, At(Leak, 0, "conn.ReadFrame()", "the lambda"));

    [Fact]
    public Task Reports_ReadFrameLeakedOnSwitchCase() => Verify("""
        void M(IWebSocketConn conn, int n)
        {
            var f = {|WSG003:conn.ReadFrame()|};
            switch (n)
            {
                case 0:
                    return;
                default:
                    f.Release();
                    return;
            }
        }
        """);

    [Fact]
    public Task Reports_ReadLoopFrameLeakedOnContinue() => Verify("""
        void M(IWebSocketConn conn)
        {
            WebSocketFrame f = null;
            while (conn.IsOpen)
            {
                f = {|WSG003:conn.ReadFrame()|};
                if (f.Payload.IsEmpty)
                    continue;
                f.Release();
            }
        }
        """);
}
