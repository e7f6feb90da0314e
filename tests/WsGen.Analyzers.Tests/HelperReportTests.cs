using static WsGen.Analyzers.Tests.Code;

namespace WsGen.Analyzers.Tests;

/// <summary>WSG001-003 across methods: what a method of the compilation does to the frame it receives (releases it,
/// reads its payload, keeps it) applies at the call, reported at the exact place with the exact message.</summary>
public sealed class HelperReportTests
{
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor UseRule = DiagnosticDescriptors.PayloadUsedAfterRelease;
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor Double = DiagnosticDescriptors.DoubleRelease;
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor Leak = DiagnosticDescriptors.FrameNotReleased;

    private const string Extensions = """

        static class FrameExtensions
        {
            public static void Finish(this WebSocketFrame frame) => frame.Release();
        }

        """;

    [Fact]
    public Task Reports_UseAfterHelperReleased() => Verify("""
        void Consume(WebSocketFrame f)
        {
            UseMemory(f.Payload);
            Finish(f);
            UseMemory({|#0:f.Payload|});
        }
        void Finish(WebSocketFrame f) => f.Release();
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_UseAfterExtensionMethodReleased() => VerifyWith("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f.Finish();
            UseMemory({|#0:f.Payload|});
        }
        """, Extensions, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_ExtensionThroughConditionalAccess() => VerifyWith("""
        void M(WebSocketFrame f)
        {
            f?.Finish();
            Use({|#0:f.Payload|}.Span);
        }
        """, Extensions, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_ReleaseAfterHelperReleased() => Verify("""
        void M(WebSocketFrame f)
        {
            Finish(f);
            {|#0:f.Release()|};
        }
        void Finish(WebSocketFrame x) => x.Release();
        """, At(Double, 0, "f.Release()", "on every path"));

    [Fact]
    public Task Reports_HelperReleasesReleasedFrame() => Verify("""
        void M(WebSocketFrame f)
        {
            f.Release();
            {|#0:Finish(f)|};
        }
        void Finish(WebSocketFrame x) => x.Release();
        """, At(Double, 0, "Finish(f)", "on every path"));

    [Fact]
    public Task Reports_HelperReadsPayloadOfReleasedFrame() => Verify("""
        void M(WebSocketFrame f)
        {
            f.Release();
            {|#0:Show(f)|};
        }
        void Show(WebSocketFrame x) => UseMemory(x.Payload);
        """, At(UseRule, 0, "Show(f)", "on every path"));

    [Fact]
    public Task Reports_HelperReadsPayloadOfFrameReleasedOnSomePath() => Verify("""
        void M(WebSocketFrame f, bool c)
        {
            if (c)
                f.Release();
            {|#0:Show(f)|};
        }
        void Show(WebSocketFrame x) => Use(x.Payload.Span);
        """, At(UseRule, 0, "Show(f)", "on some path"));

    [Fact]
    public Task Reports_HelperReleasesOnSomePath() => Verify("""
        void M(WebSocketFrame f)
        {
            MaybeFinish(f, Check());
            UseMemory({|#0:f.Payload|});
        }
        void MaybeFinish(WebSocketFrame x, bool c)
        {
            if (c)
                x.Release();
        }
        """, At(UseRule, 0, "f.Payload", "on some path"));

    [Fact]
    public Task Reports_HelperTwoDeepReleases() => Verify("""
        void M(WebSocketFrame f)
        {
            Done(f);
            UseMemory({|#0:f.Payload|});
        }
        void Done(WebSocketFrame x) => Finish(x);
        void Finish(WebSocketFrame y) => y.Release();
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_HelperThreeDeepReadsPayload() => Verify("""
        void M(WebSocketFrame f)
        {
            f.Release();
            {|#0:Outer(f)|};
        }
        void Outer(WebSocketFrame a) => Middle(a);
        void Middle(WebSocketFrame b) => Inner(b);
        void Inner(WebSocketFrame c) => UseMemory(c.Payload.Slice(1));
        """, At(UseRule, 0, "Outer(f)", "on every path"));

    [Fact]
    public Task Reports_AwaitedAsyncHelperReleased() => Verify("""
        async Task M(WebSocketFrame f)
        {
            await ReleaseAsync(f);
            UseMemory({|#0:f.Payload|});
        }
        async Task ReleaseAsync(WebSocketFrame x)
        {
            await SendAsync(x.Payload);
            x.Release();
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_AsyncHelperNotAwaitedYet_SomePath() => Verify("""
        async Task M(WebSocketFrame f)
        {
            var pending = ReleaseAsync(f);
            UseMemory({|#0:f.Payload|});
            await pending;
        }
        async Task ReleaseAsync(WebSocketFrame x)
        {
            await Task.Yield();
            x.Release();
        }
        """, At(UseRule, 0, "f.Payload", "on some path"));

    [Fact]
    public Task Reports_OnMessageHelperOnlyReads() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame {|#0:frame|})
        {
            Show(frame);
        }
        void Show(WebSocketFrame x) => UseMemory(x.Payload);
        """, At(Leak, 0, "frame", "OnMessage"));

    [Fact]
    public Task Reports_ReadFrameHelperReleasesOnSomePath() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = {|#0:conn.ReadFrame()|};
            MaybeFinish(f, Check());
        }
        void MaybeFinish(WebSocketFrame x, bool c)
        {
            if (c)
                x.Release();
        }
        """, At(Leak, 0, "conn.ReadFrame()", "M"));

    [Fact]
    public Task Reports_StaticHelperOfAnotherClass() => VerifyWith("""
        void M(WebSocketFrame f)
        {
            Frames.Drop(f);
            Use({|#0:f.Payload|}.Span);
        }
        """, """

        static class Frames
        {
            public static void Drop(WebSocketFrame frame) => frame.Release();
        }

        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_GenericHelper() => Verify("""
        void M(WebSocketFrame f)
        {
            Done(f, 1);
            UseMemory({|#0:f.Payload|});
        }
        void Done<T>(WebSocketFrame x, T tag) => x.Release();
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_HelperReleasesItsSecondParameterOnly() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            ReleaseSecond(f, g);
            UseMemory(f.Payload);
            UseMemory({|#0:g.Payload|});
            f.Release();
        }
        void ReleaseSecond(WebSocketFrame a, WebSocketFrame b) => b.Release();
        """, At(UseRule, 0, "g.Payload", "on every path"));

    [Fact]
    public Task Reports_HelperReleasingInFinally() => Verify("""
        void M(WebSocketFrame f)
        {
            Forward(f);
            UseMemory({|#0:f.Payload|});
        }
        void Forward(WebSocketFrame x)
        {
            try
            {
                UseMemory(x.Payload);
            }
            finally
            {
                x.Release();
            }
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_HelperCalledInLoop() => Verify("""
        void M(WebSocketFrame f)
        {
            while (Check())
                {|#0:Finish(f)|};
        }
        void Finish(WebSocketFrame x) => x.Release();
        """, At(Double, 0, "Finish(f)", "on some path"));

    [Fact]
    public Task Reports_HelperReleasesAlias() => Verify("""
        void M(WebSocketFrame f)
        {
            var g = f;
            Finish(g);
            {|#0:f.Release()|};
        }
        void Finish(WebSocketFrame x) => x.Release();
        """, At(Double, 0, "f.Release()", "on every path"));

    [Fact]
    public Task Reports_StaticLocalFunctionReleasesItsParameter() => Verify("""
        void M(WebSocketFrame f)
        {
            Done(f);
            UseMemory({|#0:f.Payload|});

            static void Done(WebSocketFrame x) => x.Release();
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_FrameFromAHelperReleasedTwiceThroughHelpers() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = Next(conn);
            Finish(f);
            {|#0:Finish(f)|};
        }
        static WebSocketFrame Next(IWebSocketConn conn) => conn.ReadFrame();
        static void Finish(WebSocketFrame x) => x.Release();
        """, At(Double, 0, "Finish(f)", "on every path"));
}
