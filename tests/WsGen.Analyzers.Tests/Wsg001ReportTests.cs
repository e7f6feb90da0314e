using static WsGen.Analyzers.Tests.Code;

namespace WsGen.Analyzers.Tests;

/// <summary>WSG001 cases that must report, at the exact use.</summary>
public sealed class Wsg001ReportTests
{
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor Rule = DiagnosticDescriptors.PayloadUsedAfterRelease;

    [Fact]
    public Task Reports_PayloadAfterRelease_StraightLine() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f.Release();
            UseMemory({|#0:f.Payload|});
        }
        """, At(Rule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_SpanOfPayloadAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f.Release();
            Use({|WSG001:f.Payload|}.Span);
        }
        """);

    [Fact]
    public Task Reports_MemoryLocalTakenBeforeRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var m = f.Payload;
            f.Release();
            UseMemory({|#0:m|});
        }
        """, At(Rule, 0, "m", "on every path"));

    [Fact]
    public Task Reports_SpanLocalTakenBeforeRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var s = f.Payload.Span;
            f.Release();
            Use({|WSG001:s|});
        }
        """);

    [Fact]
    public Task Reports_SliceOfPayloadInLocal() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var m = f.Payload.Slice(2);
            f.Release();
            UseMemory({|WSG001:m|});
        }
        """);

    [Fact]
    public Task Reports_SliceOfSlice() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var a = f.Payload.Slice(1);
            var b = a.Span.Slice(1);
            f.Release();
            Use({|WSG001:b|});
        }
        """);

    [Fact]
    public Task Reports_RangeOfPayload() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var m = f.Payload[1..];
            f.Release();
            UseMemory({|WSG001:m|});
        }
        """);

    [Fact]
    public Task Reports_ReadOnlyMemoryConversion() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            ReadOnlyMemory<byte> m = f.Payload;
            f.Release();
            UseMemory({|WSG001:m|});
        }
        """);

    [Fact]
    public Task Reports_SliceTakenAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var m = f.Payload;
            f.Release();
            var tail = {|WSG001:m|}.Slice(1);
            UseMemory(tail);
        }
        """);

    [Fact]
    public Task Reports_IndexingSpanAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var s = f.Payload.Span;
            f.Release();
            var first = {|WSG001:s|}[0];
        }
        """);

    [Fact]
    public Task Reports_CopyTakenOnlyAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f.Release();
            var copy = {|WSG001:f.Payload|}.ToArray();
        }
        """);

    [Fact]
    public Task Reports_PayloadLengthAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f.Release();
            int n = {|WSG001:f.Payload|}.Length;
        }
        """);

    [Fact]
    public Task Reports_ReleasedOnOneBranch_SomePath() => Verify("""
        void M(WebSocketFrame f, bool c)
        {
                if (c)
                f.Release();
            UseMemory({|#0:f.Payload|});
        }
        """, At(Rule, 0, "f.Payload", "on some path"));

    [Fact]
    public Task Reports_ReleasedOnBothBranches_EveryPath() => Verify("""
        void M(IWebSocketConn conn, bool c)
        {
            var f = conn.ReadFrame();
            if (c)
                f.Release();
            else
                f.Release();
            UseMemory({|#0:f.Payload|});
        }
        """, At(Rule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_NestedBranches() => Verify("""
        void M(WebSocketFrame f, bool a, bool b)
        {
                var m = f.Payload;
            if (a)
            {
                if (b)
                    f.Release();
            }
            UseMemory({|#0:m|});
        }
        """, At(Rule, 0, "m", "on some path"));

    [Fact]
    public Task Reports_UseInNextLoopIteration() => Verify("""
        void M(WebSocketFrame f)
        {
                var m = f.Payload;
            while (Check())
            {
                UseMemory({|#0:m|});
                {|#1:f.Release()|};
            }
        }
        """, At(Rule, 0, "m", "on some path"), At(DiagnosticDescriptors.DoubleRelease, 1, "f.Release()", "on some path"));

    [Fact]
    public Task Reports_UseInNextDoWhileIteration() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var s = f.Payload.Span;
            do
            {
                Use({|WSG001:s|});
                {|WSG002:f.Release()|};
            } while (Check());
        }
        """);

    [Fact]
    public Task Reports_UseAfterLoopThatMayRelease() => Verify("""
        void M(WebSocketFrame f, List<int> items)
        {
                foreach (var item in items)
            {
                if (item == 0)
                {
                    f.Release();
                    break;
                }
            }
            UseMemory({|#0:f.Payload|});
        }
        """, At(Rule, 0, "f.Payload", "on some path"));

    [Fact]
    public Task Reports_ReadLoopUseAfterReleaseInSameIteration() => Verify("""
        void M(IWebSocketConn conn)
        {
            while (conn.IsOpen)
            {
                var f = conn.ReadFrame();
                f.Release();
                UseMemory({|#0:f.Payload|});
            }
        }
        """, At(Rule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_SwitchCaseReleases() => Verify("""
        void M(WebSocketFrame f, int n)
        {
                switch (n)
            {
                case 1:
                    f.Release();
                    break;
                default:
                    break;
            }
            UseMemory({|#0:f.Payload|});
        }
        """, At(Rule, 0, "f.Payload", "on some path"));

    [Fact]
    public Task Reports_SwitchAllCasesRelease() => Verify("""
        void M(IWebSocketConn conn, int n)
        {
            var f = conn.ReadFrame();
            switch (n)
            {
                case 1:
                    f.Release();
                    break;
                default:
                    f.Release();
                    break;
            }
            UseMemory({|#0:f.Payload|});
        }
        """, At(Rule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_UseInSwitchExpressionArm() => Verify("""
        int M(IWebSocketConn conn, int n)
        {
            var f = conn.ReadFrame();
            f.Release();
            return n switch
            {
                1 => {|WSG001:f.Payload|}.Length,
                _ => 0,
            };
        }
        """);

    [Fact]
    public Task Reports_ReleaseInFinally_UseAfterTry() => Verify("""
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
            UseMemory({|#0:f.Payload|});
        }
        """, At(Rule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_UseInCatchAfterReleaseInTry() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            try
            {
                f.Release();
                Check();
            }
            catch (InvalidOperationException)
            {
                UseMemory({|#0:f.Payload|});
                throw;
            }
        }
        """, At(Rule, 0, "f.Payload", "on some path"));

    [Fact]
    public Task Reports_UseInFinallyAfterReleaseInTry() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var m = f.Payload;
            try
            {
                f.Release();
            }
            finally
            {
                UseMemory({|WSG001:m|});
            }
        }
        """);

    [Fact]
    public Task Reports_UseAfterTryCatchThatReleases() => Verify("""
        void M(WebSocketFrame f)
        {
                try
            {
                f.Release();
            }
            catch (InvalidOperationException)
            {
            }
            UseMemory({|WSG001:f.Payload|});
        }
        """);

    [Fact]
    public Task Reports_UseAfterAwait() => Verify("""
        async Task M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var m = f.Payload;
            f.Release();
            await Task.Yield();
            await SendAsync({|#0:m|});
        }
        """, At(Rule, 0, "m", "on every path"));

    [Fact]
    public Task Reports_ReleaseAfterAwait_UseAfterAnotherAwait() => Verify("""
        async Task M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            await SendAsync(f.Payload);
            f.Release();
            await SendAsync({|WSG001:f.Payload|});
        }
        """);

    [Fact]
    public Task Reports_ConditionalAccessRelease_ThenUse() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f?.Release();
            UseMemory({|#0:f.Payload|});
        }
        """, At(Rule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_ConditionalAccessUseAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f.Release();
            var n = f?{|WSG001:.Payload|}.Length;
        }
        """);

    [Fact]
    public Task Reports_AliasReleased_OriginalUsed() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var g = f;
            g.Release();
            UseMemory({|WSG001:f.Payload|});
        }
        """);

    [Fact]
    public Task Reports_OriginalReleased_AliasUsed() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var g = f;
            f.Release();
            UseMemory({|WSG001:g.Payload|});
        }
        """);

    [Fact]
    public Task Reports_LambdaCreatedAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f.Release();
            Action show = () => UseMemory({|#0:f.Payload|});
            show();
        }
        """, At(Rule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_AsyncLambdaCreatedAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            var m = f.Payload;
            f.Release();
            Func<Task> send = async () => await SendAsync({|WSG001:m|});
        }
        """);

    [Fact]
    public Task Reports_UseInsideLambdaAfterReleaseInsideLambda() => Verify("""
        void M(IWebSocketConn conn)
        {
            Action handle = () =>
            {
                var f = conn.ReadFrame();
                f.Release();
                UseMemory({|WSG001:f.Payload|});
            };
        }
        """);

    [Fact]
    public Task Reports_LocalFunctionCalledAfterRelease() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            f.Release();
            Show();

            void Show() => UseMemory({|WSG001:f.Payload|});
        }
        """);

    [Fact]
    public Task Reports_LocalFunctionThatReleases_ThenUse() => Verify("""
        void M(IWebSocketConn conn)
        {
            var f = conn.ReadFrame();
            Done();
            UseMemory({|#0:f.Payload|});

            void Done() => f.Release();
        }
        """, At(Rule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_OnMessageParameter() => Verify("""
        public void OnMessage(IWebSocketConn conn, WebSocketFrame frame)
        {
            frame.Release();
            conn.Send({|WSG001:frame.Payload|}.Span);
        }
        """);

    [Fact]
    public Task Reports_UseInReturnExpression() => Verify("""
        int M(WebSocketFrame f)
        {
            f.Release();
            return {|WSG001:f.Payload|}.Length;
        }
        """);

    [Fact]
    public Task Reports_UseInConditionAfterRelease() => Verify("""
        void M(WebSocketFrame f)
        {
            f.Release();
            if ({|WSG001:f.Payload|}.IsEmpty)
                return;
        }
        """);

    [Fact]
    public Task Reports_ForeachOverSpanAfterRelease() => Verify("""
        int M(WebSocketFrame f)
        {
            var s = f.Payload.Span;
            f.Release();
            var sum = 0;
            foreach (var b in {|WSG001:s|})
                sum += b;
            return sum;
        }
        """);

    [Fact]
    public Task Reports_ConditionalExpressionOfPayloads() => Verify("""
        void M(WebSocketFrame f, bool c)
        {
            var m = c ? f.Payload : f.Payload.Slice(1);
            f.Release();
            UseMemory({|WSG001:m|});
        }
        """);

    [Fact]
    public Task Reports_DecodingTextAfterRelease() => Verify("""
        string M(WebSocketFrame f)
        {
            f.Release();
            return System.Text.Encoding.UTF8.GetString({|WSG001:f.Payload|}.Span);
        }
        """);

    [Fact]
    public Task Reports_IsReleasedGuardedRelease_ThenUse() => Verify("""
        void M(WebSocketFrame f, bool c)
        {
            if (c)
                f.Release();
            if (!f.IsReleased)
                f.Release();
            UseMemory({|#0:f.Payload|});
        }
        """, At(Rule, 0, "f.Payload", "on every path"));

    [Fact]
    public Task Reports_ParameterDerivedSpanSlice() => Verify("""
        void M(WebSocketFrame f)
        {
            Span<byte> body = f.Payload.Span.Slice(2);
            f.Release();
            body[0] = 1;
            Use({|WSG001:body|});
        }
        """.Replace("body[0] = 1;", "{|WSG001:body|}[0] = 1;"));

    [Fact]
    public Task Reports_ReleaseThroughConditionalAccessOnAlias() => Verify("""
        void M(WebSocketFrame f)
        {
            var g = f;
            g?.Release();
            UseMemory({|WSG001:f.Payload|});
        }
        """);
}
