using static WsGen.Analyzers.Tests.Code;

namespace WsGen.Analyzers.Tests;

/// <summary>Idiomatic and undecidable code on which every rule must stay silent.</summary>
public sealed class SilentTests
{
    [Fact]
    public Task Silent_ReleaseAfterLastUse() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            UseMemory(f.Payload);
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_ReadLoopFreshFrameEachIteration() => Verify("""
        void M(IWebSocketConn conn)
        {
            while (conn.IsOpen)
            {
                var f = conn.ReadFrame();
                UseMemory(f.Payload);
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_ReadLoopFrameVariableDeclaredOutside() => Verify("""
        void M(IWebSocketConn conn)
        {
            WebSocketFrame f;
            while (conn.IsOpen)
            {
                f = conn.ReadFrame();
                Use(f.Payload.Span);
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_ForLoopFreshFrameEachIteration() => Verify("""
        void M(IWebSocketConn conn)
        {
            for (var f = conn.ReadFrame(); !f.Payload.IsEmpty; f = conn.ReadFrame())
            {
                UseMemory(f.Payload);
                f.Release();
            }
        }
        """.Replace("!f.Payload.IsEmpty", "Check()"));

    [Fact]
    public Task Silent_AsyncReadLoop() => Verify("""
        async Task M(IWebSocketConn conn)
        {
            while (conn.IsOpen)
            {
                var f = conn.ReadFrame();
                await SendAsync(f.Payload);
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_EarlyReturnAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            if (f.Payload.IsEmpty)
            {
                f.Release();
                return;
            }
            UseMemory(f.Payload);
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_ContinueAfterReleaseInReadLoop() => Verify("""
        void M(IWebSocketConn conn)
        {
            while (conn.IsOpen)
            {
                var f = conn.ReadFrame();
                if (f.Opcode == WebSocketOpcode.Ping)
                {
                    f.Release();
                    continue;
                }
                UseMemory(f.Payload);
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_BreakAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            while (true)
            {
                var f = conn.ReadFrame();
                if (f.Payload.IsEmpty)
                {
                    f.Release();
                    break;
                }
                Use(f.Payload.Span);
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_CatchAndRethrow() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            try
            {
                UseMemory(f.Payload);
            }
            catch
            {
                f.Release();
                throw;
            }
            UseMemory(f.Payload);
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_CatchWithFilterAndRethrow() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            try
            {
                UseMemory(f.Payload);
            }
            catch (Exception e) when (e is InvalidOperationException)
            {
                f.Release();
                throw;
            }
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_TryFinallyRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            try
            {
                UseMemory(f.Payload);
            }
            finally
            {
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_TwoDifferentFrames() => Verify("""
        void M(IWebSocketConn conn)
        {
            var a = conn.ReadFrame();
            var b = conn.ReadFrame();
            a.Release();
            UseMemory(b.Payload);
            b.Release();
        }
        """);

    [Fact]
    public Task Silent_TwoParameterFrames() => Verify("""
        void M(WebSocketFrame a, WebSocketFrame b)
        {
            var m = b.Payload;
            a.Release();
            UseMemory(m);
            b.Release();
        }
        """);

    [Fact]
    public Task Silent_CopyWithToArrayBeforeRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var copy = f.Payload.ToArray();
            f.Release();
            Use(copy);
        }
        """);

    [Fact]
    public Task Silent_CopyOfSliceBeforeRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            var copy = f.Payload.Span.Slice(1).ToArray();
            f.Release();
            Use(copy);
        }
        """);

    [Fact]
    public Task Silent_LengthKeptInInt() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            int n = f.Payload.Length;
            f.Release();
            Console.WriteLine(n);
        }
        """);

    [Fact]
    public Task Silent_LengthOfDerivedLocalAfterRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            var m = f.Payload;
            UseMemory(m);
            f.Release();
            Console.WriteLine(m.Length + (m.IsEmpty ? 0 : 1));
        }
        """);

    [Fact]
    public Task Silent_FrameLocalReassignedAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f.Release();
            f = conn.ReadFrame();
            UseMemory(f.Payload);
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_DerivedLocalReassignedAfterRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            Memory<byte> m = f.Payload;
            f.Release();
            m = new byte[4];
            UseMemory(m);
        }
        """);

    [Fact]
    public Task Silent_DerivedLocalReassignedEachIteration() => Verify("""
        void M(IWebSocketConn conn)
        {
            Memory<byte> m = default;
            while (conn.IsOpen)
            {
                var f = conn.ReadFrame();
                m = f.Payload;
                UseMemory(m);
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_UnrelatedMemoryLocal() => Verify("""
        void M(WebSocketFrame f)
        {
            Memory<byte> m = new byte[3];
            f.Release();
            UseMemory(m);
        }
        """);

    [Fact]
    public Task Silent_LambdaCreatedBeforeRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            Action show = () => UseMemory(f.Payload);
            show();
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_ReleaseInsideLambdaNotKnownToRun() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            Action release = () => f.Release();
            UseMemory(f.Payload);
            release();
        }
        """);

    [Fact]
    public Task Silent_LambdaOverReassignedVariable() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f.Release();
            Action show = () => UseMemory(f.Payload);
            f = conn.ReadFrame();
            show();
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_LambdaWithOwnFrameParameter() => Verify("""
        void M()
        {
            Action<WebSocketFrame> handler = frame =>
            {
                UseMemory(frame.Payload);
                frame.Release();
            };
        }
        """);

    [Fact]
    public Task Silent_LocalFunctionUsesBeforeRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            Show();
            f.Release();

            void Show() => UseMemory(f.Payload);
        }
        """);

    [Fact]
    public Task Silent_LocalFunctionWithOwnParameterReleases() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            UseMemory(f.Payload);
            Done(f);

            static void Done(WebSocketFrame x) => x.Release();
        }
        """);

    [Fact]
    public Task Silent_ConditionalAccessReleaseAlone() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            UseMemory(f.Payload);
            f?.Release();
        }
        """);

    [Fact]
    public Task Silent_IsReleasedGuardAvoidsDoubleRelease() => Verify("""
        void M(WebSocketFrame f, bool c)
        {
            if (c)
                f.Release();
            if (!f.IsReleased)
                f.Release();
        }
        """);

    [Fact]
    public Task Silent_NullCheckAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f.Release();
            f = null;
            if (f != null)
                UseMemory(f.Payload);
        }
        """);

    [Fact]
    public Task Silent_IsNullEarlyReturn() => Verify("""
        void M(WebSocketFrame f)
        {
            if (f is null)
                return;
            UseMemory(f.Payload);
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_UseInLoopThenReleaseAfterLoop() => Verify("""
        void M(WebSocketFrame f, List<int> items)
        {
            foreach (var item in items)
                UseMemory(f.Payload.Slice(item));
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_SwitchEachCaseUsesThenReleases() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            switch (f.Opcode)
            {
                case WebSocketOpcode.Text:
                    Use(f.Payload.Span);
                    f.Release();
                    break;
                case WebSocketOpcode.Binary:
                    UseMemory(f.Payload);
                    f.Release();
                    break;
                default:
                    f.Release();
                    break;
            }
        }
        """);

    [Fact]
    public Task Silent_ReleaseInOneBranchUseInTheOther() => Verify("""
        void M(WebSocketFrame f, bool c)
        {
            if (c)
            {
                f.Release();
            }
            else
            {
                UseMemory(f.Payload);
                f.Release();
            }
        }
        """);

    [Fact]
    public Task Silent_AwaitBeforeRelease() => Verify("""
        async Task M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            await SendAsync(f.Payload);
            await SendAsync(f.Payload.Slice(1));
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_AliasReassignedToAnotherFrame() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var g = f;
            g = conn.ReadFrame();
            g.Release();
            UseMemory(f.Payload);
            f.Release();
        }
        """);

    [Fact]
    public Task Silent_PreviousFrameReleasedInNextIteration() => Verify("""
        void M(IWebSocketConn conn)
        {
            WebSocketFrame previous = null;
            while (conn.IsOpen)
            {
                var f = conn.ReadFrame();
                previous?.Release();
                UseMemory(f.Payload);
                previous = f;
            }
            previous?.Release();
        }
        """);

    [Fact]
    public Task Silent_ReturnedFrameIsNotLeaked() => Verify("""
        WebSocketFrame M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            UseMemory(f.Payload);
            return f;
        }
        """);

    [Fact]
    public Task Silent_StoredFrameIsNotLeaked() => Verify("""
        WebSocketFrame _last;
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            _last = f;
        }
        """);

    [Fact]
    public Task Silent_PassedOnFrameIsNotLeaked() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            Keep(f);
        }
        """);

    [Fact]
    public Task Silent_OnMessageEcho() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            conn.WriteFrame(frame);
            frame.Release();
        }
        """);

    [Fact]
    public Task Silent_OnMessageQueuesFrame() => Verify("""
        readonly Queue<WebSocketFrame> _queue = new();
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            if (frame.Payload.IsEmpty)
            {
                frame.Release();
                return;
            }
            _queue.Enqueue(frame);
        }
        """);

    [Fact]
    public Task Silent_FrameParameterOfOtherMethodNotOwned() => Verify("""
        void Inspect(WebSocketFrame f)
        {
            UseMemory(f.Payload);
        }
        """);

    [Fact]
    public Task Silent_FrameCapturedByLambdaIsHandedOn() => Verify("""
        void M(IWebSocketConn conn, List<Action> later)
        {
            var f = conn.ReadFrame();
            later.Add(() => f.Release());
        }
        """);

    [Fact]
    public Task Silent_UseAfterReleaseOfAnotherFrameInSameLoop() => Verify("""
        void M(IWebSocketConn conn, WebSocketFrame first)
        {
            var m = first.Payload;
            while (conn.IsOpen)
            {
                var f = conn.ReadFrame();
                f.Release();
                UseMemory(m);
            }
            first.Release();
        }
        """);

    [Fact]
    public Task Silent_TypeWithSameNameInOtherNamespace() => new AnalyzerTest("""
        using System;

        namespace Other
        {
            public sealed class WebSocketFrame
            {
                public Memory<byte> Payload { get; set; }
                public void Release() { }
            }

            class C
            {
                static void UseMemory(ReadOnlyMemory<byte> data) { }

                void M(WebSocketFrame f)
                {
                    f.Release();
                    UseMemory(f.Payload);
                    f.Release();
                }
            }
        }
        """).RunAsync();
}
