using static WsGen.Analyzers.Tests.Code;

namespace WsGen.Analyzers.Tests;

/// <summary>The new aliases where every rule must stay silent: a field or element reassigned before its use, a
/// possible reassignment by other code, another element, a copy taken before the release, a delegate invoked only
/// after the last use or written twice.</summary>
public sealed class AliasSilentTests
{
    [Fact]
    public Task Silent_FieldReassignedBeforeUse() => Verify("""
        WebSocketFrame _current;
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            _current = f;
            _current.Release();
            _current = g;
            UseMemory(_current.Payload);
        }
        """);

    [Fact]
    public Task Silent_AutoPropertyReassignedBeforeUse() => Verify("""
        WebSocketFrame Current { get; set; }
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            Current = f;
            f.Release();
            Current = g;
            UseMemory(Current.Payload);
        }
        """);

    [Fact]
    public Task Silent_FieldAfterCallOnThis() => Verify("""
        WebSocketFrame _current;
        void M()
        {
            _current.Release();
            Refresh();
            UseMemory(_current.Payload);
        }
        void Refresh() => _current = null!;
        """);

    [Fact]
    public Task Silent_FieldAfterAwait() => Verify("""
        WebSocketFrame _current;
        async Task M()
        {
            _current.Release();
            await Task.Yield();
            UseMemory(_current.Payload);
        }
        """);

    [Fact]
    public Task Silent_FieldReassignedByLambdaHandedToCall() => Verify("""
        WebSocketFrame _current;
        void M(WebSocketFrame f, WebSocketFrame g, List<int> items)
        {
            _current = f;
            _current.Release();
            items.ForEach(_ => _current = g);
            _current.Release();
        }
        """);

    [Fact]
    public Task Silent_FieldOfAnotherInstance() => Verify("""
        WebSocketFrame _current;
        void M(C other)
        {
            other._current.Release();
            UseMemory(_current.Payload);
        }
        """);

    [Fact]
    public Task Silent_ComputedPropertyNotFollowed() => Verify("""
        readonly List<WebSocketFrame> _frames = new();
        WebSocketFrame Current => _frames[_frames.Count - 1];
        void M()
        {
            Current.Release();
            UseMemory(Current.Payload);
        }
        """);

    [Fact]
    public Task Silent_FrameStoredInFieldIsNotLeaked() => Verify("""
        WebSocketFrame Pending { get; set; }
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            Pending = frame;
            UseMemory(Pending.Payload);
        }
        """);

    [Fact]
    public Task Silent_TupleReassigned() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            var t = (f, 1);
            t.Item1.Release();
            t = (g, 2);
            UseMemory(t.Item1.Payload);
        }
        """);

    [Fact]
    public Task Silent_OtherTupleElement() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            var t = (f, g);
            t.Item1.Release();
            UseMemory(t.Item2.Payload);
        }
        """);

    [Fact]
    public Task Silent_DeconstructionSwap() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            var a = f;
            var b = g;
            (a, b) = (b, a);
            a.Release();
            UseMemory(f.Payload);
        }
        """);

    [Fact]
    public Task Silent_FrameDeconstructedIntoFieldIsNotLeaked() => Verify("""
        WebSocketFrame _held;
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            int n;
            (_held, n) = (frame, 1);
        }
        """);

    [Fact]
    public Task Silent_NestedTupleDeconstruction() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            var (a, (b, n)) = (f, (g, 1));
            a.Release();
            UseMemory(g.Payload);
            b.Release();
        }
        """);

    [Fact]
    public Task Silent_OtherArrayElement() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            var frames = new[] { f, g };
            frames[0].Release();
            UseMemory(frames[1].Payload);
        }
        """);

    [Fact]
    public Task Silent_ArrayWrittenAtComputedIndex() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g, int i)
        {
            var frames = new[] { f, f };
            frames[0].Release();
            frames[i] = g;
            UseMemory(frames[0].Payload);
        }
        """);

    [Fact]
    public Task Silent_ArrayElementWrittenByInvokedLambda() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            var frames = new[] { f };
            Action swap = () => frames[0] = g;
            f.Release();
            swap();
            UseMemory(frames[0].Payload);
        }
        """);

    [Fact]
    public Task Silent_OwnArrayHandedOn() => Verify("""
        void M(IWebSocketConn conn, List<WebSocketFrame[]> batches)
        {
            var f = conn.ReadFrame();
            var frames = new[] { f };
            batches.Add(frames);
        }
        """);

    [Fact]
    public Task Silent_ArrayParameterNotFollowed() => Verify("""
        void M(WebSocketFrame[] frames)
        {
            frames[0].Release();
            frames[0] = frames[1];
            UseMemory(frames[0].Payload);
        }
        """);

    [Fact]
    public Task Silent_RefLocalReboundToAnotherFrame() => Verify("""
        void M(WebSocketFrame f, WebSocketFrame g)
        {
            ref var r = ref f;
            r = ref g;
            r.Release();
            UseMemory(f.Payload);
        }
        """);

    [Fact]
    public Task Silent_WriteThroughRefLocal() => Verify("""
        void M(IWebSocketConn conn, WebSocketFrame f)
        {
            f.Release();
            ref var r = ref f;
            r = conn.ReadFrame();
            UseMemory(f.Payload);
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_PatternVariableOfAnotherFrame() => Verify("""
        void M(WebSocketFrame f, object o)
        {
            if (o is WebSocketFrame other)
                other.Release();
            UseMemory(f.Payload);
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_SegmentCopiedBeforeRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(f.Payload, out var segment))
            {
                var copy = segment.ToArray();
                f.Release();
                Use(copy);
            }
        }
        """);

    [Fact]
    public Task Silent_SegmentCountAfterRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(f.Payload, out var segment);
            f.Release();
            int n = segment.Count + segment.Offset;
        }
        """);

    [Fact]
    public Task Silent_LambdaInvokedAfterLastUse() => Verify("""
        void M(WebSocketFrame f)
        {
            Action release = () => f.Release();
            UseMemory(f.Payload);
            release();
        }
        """);

    [Fact]
    public Task Silent_DelegateWrittenTwice() => Verify("""
        void M(WebSocketFrame f)
        {
            Action act = () => f.Release();
            act = () => { };
            act();
            UseMemory(f.Payload);
        }
        """);

    [Fact]
    public Task Silent_LocalFunctionsFiveDeepOnlyRead() => Verify("""
        void M(WebSocketFrame f)
        {
            A();
            f.Release();

            void A() => B();
            void B() => C();
            void C() => D();
            void D() => E();
            void E() => UseMemory(f.Payload);
        }
        """);
}
