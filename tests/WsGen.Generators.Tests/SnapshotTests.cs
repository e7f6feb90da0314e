using Microsoft.CodeAnalysis;

namespace WsGen.Generators.Tests;

/// <summary>The generated sources, compared with the files under Baselines/ (WSGEN_UPDATE_BASELINES=1 rewrites them).</summary>
public sealed class SnapshotTests
{
    public static TheoryData<string, string?> Cases() => new()
    {
        { nameof(Declarations.SpanOnly), null },
        { nameof(Declarations.SpanOnly), "linux-x64" },
        { nameof(Declarations.SpanOnly), "osx-arm64" },
        { nameof(Declarations.SpanOnly), "win-x64" },
        { nameof(Declarations.FrameAsyncAllHandlers), null },
        { nameof(Declarations.Several), "linux-x64" },
        { nameof(Declarations.Several), null },
        { nameof(Declarations.GlobalNamespace), "freebsd-x64" },
        { nameof(Declarations.Clashing), null },
        { nameof(Declarations.WithServices), null },
        { nameof(Declarations.Upgrades), null },
    };

    internal static string[] Sources(string name) => name switch
    {
        nameof(Declarations.SpanOnly) => [Declarations.SpanOnly],
        nameof(Declarations.FrameAsyncAllHandlers) => [Declarations.FrameAsyncAllHandlers],
        nameof(Declarations.Several) => Declarations.Several,
        nameof(Declarations.Clashing) => [Declarations.Clashing],
        nameof(Declarations.WithServices) => [Declarations.WithServices],
        nameof(Declarations.Upgrades) => Declarations.Upgrades,
        _ => [Declarations.GlobalNamespace],
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_MatchesBaseline(string name, string? runtimeIdentifier)
    {
        var (sources, _) = GeneratorHarness.Run(runtimeIdentifier, Sources(name));
        Baseline.Verify($"{name}.{runtimeIdentifier ?? "any"}.txt", GeneratorHarness.Concatenate(sources));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_CompilesWithoutWarnings(string name, string? runtimeIdentifier)
    {
        var (_, output) = GeneratorHarness.Run(runtimeIdentifier, Sources(name));
        var problems = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_IsDeterministic(string name, string? runtimeIdentifier)
    {
        var first = GeneratorHarness.Concatenate(GeneratorHarness.Run(runtimeIdentifier, Sources(name)).Sources);
        var reversed = Sources(name).Reverse().ToArray();
        var second = GeneratorHarness.Concatenate(GeneratorHarness.Run(runtimeIdentifier, reversed).Sources);
        Assert.Equal(first, second);
    }

    [Fact]
    public void InvalidEndpoint_GeneratesNothingForIt()
    {
        var (sources, _) = GeneratorHarness.Run(null, GeneratorHarness.Usings + """
            [WebSocketEndpoint("/bad")]
            public class NotPartial
            {
                public void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) { }
            }

            [WebSocketEndpoint("/good")]
            public partial class Good
            {
                public void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) { }
            }
            """);
        Assert.Equal(["Good.WsGenEndpoint.g.cs", "WsGenApp.g.cs"], sources.Select(s => s.HintName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void DuplicatePaths_GenerateNoApp()
    {
        var (sources, _) = GeneratorHarness.Run(null, GeneratorHarness.Usings + """
            [WebSocketEndpoint("/same")]
            public partial class A { public void OnMessage(IWebSocketConn conn, WebSocketFrame frame) => frame.Release(); }

            [WebSocketEndpoint("/same")]
            public partial class B { public void OnMessage(IWebSocketConn conn, WebSocketFrame frame) => frame.Release(); }
            """);
        Assert.DoesNotContain(sources, s => s.HintName == "WsGenApp.g.cs");
    }

    [Fact]
    public void NoEndpoints_GenerateNothing()
    {
        var (sources, _) = GeneratorHarness.Run("linux-x64", GeneratorHarness.Usings + "public class Plain { }");
        Assert.Empty(sources);
    }
}
