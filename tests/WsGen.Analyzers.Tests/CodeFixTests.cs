using static WsGen.Analyzers.Tests.Code;

namespace WsGen.Analyzers.Tests;

/// <summary>The WSG001 code fix: Release() moved after the last use, or no fix where moving is not safe.</summary>
public sealed class CodeFixTests
{
    private static Task VerifyFix(string before, string after) => new CodeFixTest(InClass(before), InClass(after)).RunAsync();

    [Fact]
    public Task Fix_MovesReleaseAfterTheUse() => VerifyFix("""
            void M(IWebSocketConn conn)
            {
                var f = conn.ReadFrame();
                var m = f.Payload;
                f.Release();
                UseMemory({|WSG001:m|});
                Console.WriteLine(1);
            }
        """, """
            void M(IWebSocketConn conn)
            {
                var f = conn.ReadFrame();
                var m = f.Payload;
                UseMemory(m);
                f.Release();
                Console.WriteLine(1);
            }
        """);

    [Fact]
    public Task Fix_MovesReleasePastEveryLaterUse() => VerifyFix("""
            void M(WebSocketFrame f)
            {
                f.Release();
                UseMemory({|WSG001:f.Payload|});
                Console.WriteLine(2);
                Use({|WSG001:f.Payload|}.Span);
            }
        """, """
            void M(WebSocketFrame f)
            {
                UseMemory(f.Payload);
                Console.WriteLine(2);
                Use(f.Payload.Span);
                f.Release();
            }
        """);

    [Fact]
    public Task Fix_MovesReleaseAfterUseNestedInIf() => VerifyFix("""
            void M(WebSocketFrame f, bool c)
            {
                var s = f.Payload.Slice(1);
                f.Release();
                if (c)
                {
                    UseMemory({|WSG001:s|});
                }
            }
        """, """
            void M(WebSocketFrame f, bool c)
            {
                var s = f.Payload.Slice(1);
                if (c)
                {
                    UseMemory(s);
                }
                f.Release();
            }
        """);

    [Fact]
    public Task NoFix_WhenAReturnWouldBeMovedOver() => VerifyFix("""
            void M(WebSocketFrame f, bool c)
            {
                f.Release();
                if (c)
                    return;
                UseMemory({|WSG001:f.Payload|});
            }
        """, """
            void M(WebSocketFrame f, bool c)
            {
                f.Release();
                if (c)
                    return;
                UseMemory({|WSG001:f.Payload|});
            }
        """);

    [Fact]
    public Task NoFix_WhenReleasedOnSomePathOnly() => VerifyFix("""
            void M(WebSocketFrame f, bool c)
            {
                if (c)
                    f.Release();
                UseMemory({|WSG001:f.Payload|});
            }
        """, """
            void M(WebSocketFrame f, bool c)
            {
                if (c)
                    f.Release();
                UseMemory({|WSG001:f.Payload|});
            }
        """);

    [Fact]
    public Task NoFix_WhenTheFrameIsHandedOnInBetween() => VerifyFix("""
            void M(WebSocketFrame f)
            {
                var m = f.Payload;
                f.Release();
                Keep(f);
                UseMemory({|WSG001:m|});
            }
        """, """
            void M(WebSocketFrame f)
            {
                var m = f.Payload;
                f.Release();
                Keep(f);
                UseMemory({|WSG001:m|});
            }
        """);

    [Fact]
    public Task NoFix_WhenAHelperReleased() => VerifyFix("""
            void M(WebSocketFrame f)
            {
                Finish(f);
                UseMemory({|WSG001:f.Payload|});
            }
            void Finish(WebSocketFrame x) => x.Release();
        """, """
            void M(WebSocketFrame f)
            {
                Finish(f);
                UseMemory({|WSG001:f.Payload|});
            }
            void Finish(WebSocketFrame x) => x.Release();
        """);
}
