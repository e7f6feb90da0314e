using static WsGen.Analyzers.Tests.Code;

namespace WsGen.Analyzers.Tests;

/// <summary>WSG001-003 through more aliases: fields and auto-properties of <c>this</c>, tuple elements, elements of
/// arrays the method creates, ref locals, pattern variables, ArraySegments from MemoryMarshal.TryGetArray,
/// delegates invoked in the method and local functions at any depth.</summary>
public sealed class AliasReportTests
{
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor UseRule = DiagnosticDescriptors.PayloadUsedAfterRelease;
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor Double = DiagnosticDescriptors.DoubleRelease;
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor Leak = DiagnosticDescriptors.FrameNotReleased;

    [Fact]
    public Task Reports_FieldAliasReleased() => Verify("""
        WebSocketFrame _current;
        void M(WebSocketFrame f)
        {
            _current = f;
            _current.Release();
            UseMemory({|#0:f.Payload|});
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_FieldReleasedTwice() => Verify("""
        WebSocketFrame _current;
        void M()
        {
            _current.Release();
            {|#0:_current.Release()|};
        }
        """, At(Double, 0, "_current.Release()", "on every path"));

    [Fact]
    public Task Reports_ThisFieldPayloadAfterRelease() => Verify("""
        WebSocketFrame _current;
        void M()
        {
            this._current.Release();
            UseMemory({|#0:this._current.Payload|});
        }
        """, At(UseRule, 0, "this._current.Payload", "on every path"));

    [Fact]
    public Task Reports_AutoPropertyAlias() => Verify("""
        WebSocketFrame Current { get; set; }
        void M(WebSocketFrame f)
        {
            Current = f;
            f.Release();
            UseMemory({|#0:Current.Payload|});
        }
        """, At(UseRule, 0, "Current.Payload", "on every path"));

    [Fact]
    public Task Reports_StaticFieldReleasedTwice() => Verify("""
        static WebSocketFrame s_last;
        static void M(bool c)
        {
            if (c)
                s_last.Release();
            {|#0:s_last.Release()|};
        }
        """, At(Double, 0, "s_last.Release()", "on some path"));

    [Fact]
    public Task Reports_TupleElementReleased() => Verify("""
        void M(WebSocketFrame f)
        {
            var t = (f, 1);
            t.Item1.Release();
            UseMemory({|#0:f.Payload|});
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_NamedTupleElementUsed() => Verify("""
        void M(WebSocketFrame f)
        {
            (WebSocketFrame Frame, int Id) t = (f, 1);
            f.Release();
            UseMemory({|#0:t.Frame.Payload|});
        }
        """, At(UseRule, 0, "t.Frame.Payload", "on every path"));

    [Fact]
    public Task Reports_TupleCopiedToAnotherLocal() => Verify("""
        void M(WebSocketFrame f)
        {
            var t = (f, 1);
            var u = t;
            u.Item1.Release();
            {|#0:t.Item1.Release()|};
        }
        """, At(Double, 0, "t.Item1.Release()", "on every path"));

    [Fact]
    public Task Reports_DeconstructedTupleLiteral() => Verify("""
        void M(WebSocketFrame f)
        {
            var (a, n) = (f, 1);
            f.Release();
            UseMemory({|#0:a.Payload|});
        }
        """, At(UseRule, 0, "a.Payload", "on every path"));

    [Fact]
    public Task Reports_TupleOfPayloadAfterRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            var t = (f.Payload, f.Opcode);
            f.Release();
            UseMemory({|#0:t.Payload|});
        }
        """, At(UseRule, 0, "t.Payload", "on every path"));

    [Fact]
    public Task Reports_ArrayElementReleased() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            var frames = new[] { f, g };
            frames[1].Release();
            UseMemory(f.Payload);
            UseMemory({|#0:g.Payload|});
        }
        """, At(UseRule, 0, "g.Payload", "on every path"));

    [Fact]
    public Task Reports_ArrayElementAssigned() => Verify("""
        void M(WebSocketFrame f)
        {
            var frames = new WebSocketFrame[2];
            frames[0] = f;
            f.Release();
            UseMemory({|#0:frames[0].Payload|});
        }
        """, At(UseRule, 0, "frames[0].Payload", "on every path"));

    [Fact]
    public Task Reports_CollectionExpressionArray() => Verify("""
        void M(WebSocketFrame f)
        {
            WebSocketFrame[] frames = [f];
            frames[0].Release();
            {|#0:f.Release()|};
        }
        """, At(Double, 0, "f.Release()", "on every path"));

    [Fact]
    public Task Reports_RefLocalReleased() => Verify("""
        void M(WebSocketFrame f)
        {
            ref var r = ref f;
            r.Release();
            UseMemory({|#0:f.Payload|});
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_RefLocalToArrayElement() => Verify("""
        void M(WebSocketFrame f)
        {
            var frames = new[] { f };
            ref var r = ref frames[0];
            f.Release();
            UseMemory({|#0:r.Payload|});
        }
        """, At(UseRule, 0, "r.Payload", "on every path"));

    [Fact]
    public Task Reports_PatternVariable() => Verify("""
        void M(object o)
        {
            if (o is WebSocketFrame f)
            {
                f.Release();
                UseMemory({|#0:f.Payload|});
            }
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_PropertyPatternVariableAliasesFrame() => Verify("""
        void M(WebSocketFrame frame)
        {
            if (frame is { IsFinal: true } f)
            {
                f.Release();
                UseMemory({|#0:frame.Payload|});
            }
        }
        """, At(UseRule, 0, "frame.Payload", "on every path"));

    [Fact]
    public Task Reports_SwitchCasePatternVariable() => Verify("""
        void M(object o)
        {
            switch (o)
            {
                case WebSocketFrame f:
                    f.Release();
                    {|#0:f.Release()|};
                    break;
            }
        }
        """, At(Double, 0, "f.Release()", "on every path"));

    [Fact]
    public Task Reports_SegmentFromTryGetArrayAfterRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(f.Payload, out var segment))
            {
                f.Release();
                Use({|#0:segment|}.AsSpan());
            }
        }
        """, At(UseRule, 0, "segment", "on every path"));

    [Fact]
    public Task Reports_SegmentArrayReadAfterRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(f.Payload, out ArraySegment<byte> segment);
            f.Release();
            var bytes = {|#0:segment|}.Array;
        }
        """, At(UseRule, 0, "segment", "on every path"));

    [Fact]
    public Task Reports_InvokedLambdaReleases() => Verify("""
        void M(WebSocketFrame f)
        {
            Action release = () => f.Release();
            release();
            UseMemory({|#0:f.Payload|});
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_LambdaInvokedAfterRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            Action show = () => UseMemory({|#0:f.Payload|});
            f.Release();
            show();
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_DelegateInvokeMethod() => Verify("""
        void M(WebSocketFrame f)
        {
            Action release = () => f.Release();
            release.Invoke();
            {|#0:f.Release()|};
        }
        """, At(Double, 0, "f.Release()", "on every path"));

    [Fact]
    public Task Reports_LambdaWithFrameParameterInvoked() => Verify("""
        void M(WebSocketFrame f)
        {
            Action<WebSocketFrame> done = x => x.Release();
            done(f);
            UseMemory({|#0:f.Payload|});
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_LocalFunctionDelegateInvoked() => Verify("""
        void M(WebSocketFrame f)
        {
            Action finish = Done;
            finish();
            UseMemory({|#0:f.Payload|});

            void Done() => f.Release();
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_LocalFunctionsFiveDeep() => Verify("""
        void M(WebSocketFrame f)
        {
            A();
            UseMemory({|#0:f.Payload|});

            void A() => B();
            void B() => C();
            void C() => D();
            void D() => E();
            void E() => f.Release();
        }
        """, At(UseRule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_FrameInOwnArrayNeverReleased() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = {|#0:conn.ReadFrame()|};
            var frames = new[] { f };
            UseMemory(frames[0].Payload);
        }
        """, At(Leak, 0, "conn.ReadFrame()", "M"));

    [Fact]
    public Task Reports_FrameInTupleNeverReleased() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame {|#0:frame|})
        {
            var entry = (frame, conn);
            UseMemory(entry.frame.Payload);
        }
        """, At(Leak, 0, "frame", "OnMessage"));
}
