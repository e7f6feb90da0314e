using static WsGen.Analyzers.Tests.Code;

namespace WsGen.Analyzers.Tests;

/// <summary>WSG001-003 across methods: what a helper of the compilation does to the frame it receives (releases it,
/// reads its payload, keeps it) applies at the call, reported at the exact place with the exact message.</summary>
public sealed class HelperReportTests
{
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor UseRule = DiagnosticDescriptors.PayloadUsedAfterRelease;
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor Double = DiagnosticDescriptors.DoubleRelease;
    private static readonly Microsoft.CodeAnalysis.DiagnosticDescriptor Leak = DiagnosticDescriptors.FrameNotReleased;

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
}
