using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using WsGen.CodeFixes;

namespace WsGen.Analyzers.Tests;

/// <summary>Configures a test project: no reference-assembly package (so nothing to download), the offline
/// references instead, and the latest language version.</summary>
internal static class TestSetup
{
    public static void Configure(SolutionState state, List<Func<Solution, ProjectId, Solution>> transforms, out ReferenceAssemblies referenceAssemblies)
    {
        referenceAssemblies = new ReferenceAssemblies("net10.0");
        state.AdditionalReferences.AddRange(OfflineReferences.All);
        transforms.Add((solution, projectId) =>
        {
            var options = (CSharpParseOptions)solution.GetProject(projectId)!.ParseOptions!;
            return solution.WithProjectParseOptions(projectId, options.WithLanguageVersion(LanguageVersion.Latest));
        });
    }
}

/// <summary>An analyzer test against the real WsGen.Runtime with offline references.</summary>
internal sealed class AnalyzerTest : CSharpAnalyzerTest<FrameFlowAnalyzer, DefaultVerifier>
{
    public AnalyzerTest(string source)
    {
        TestSetup.Configure(TestState, SolutionTransforms, out var referenceAssemblies);
        ReferenceAssemblies = referenceAssemblies;
        TestCode = source;
    }
}

/// <summary>A code-fix test (before/after) against the real WsGen.Runtime with offline references.</summary>
internal sealed class CodeFixTest : CSharpCodeFixTest<FrameFlowAnalyzer, MoveReleaseAfterLastUseCodeFix, DefaultVerifier>
{
    public CodeFixTest(string source, string fixedSource)
    {
        TestSetup.Configure(TestState, SolutionTransforms, out var referenceAssemblies);
        FixedState.AdditionalReferences.AddRange(OfflineReferences.All);
        ReferenceAssemblies = referenceAssemblies;
        TestCode = source;
        FixedCode = fixedSource;
    }
}

/// <summary>Wraps test snippets in a class with the usings every case needs.</summary>
internal static class Code
{
    public const string Usings = "using System;\nusing System.Collections.Generic;\nusing System.Threading.Tasks;\nusing WsGen;\n\n";

    /// <summary>A class C containing <paramref name="members"/>.</summary>
    public static string InClass(string members) => Usings + "class C\n{\n" + members + "\n" + Helpers + "}\n";

    /// <summary>Members every snippet may call: consumers of a payload and a method a frame can be handed to (it keeps
    /// the frame, so the analyzer's summary of it says "handed on").</summary>
    public const string Helpers =
        "    static void Use(ReadOnlySpan<byte> data) { }\n" +
        "    static void UseMemory(ReadOnlyMemory<byte> data) { }\n" +
        "    static Task SendAsync(ReadOnlyMemory<byte> data) => Task.CompletedTask;\n" +
        "    static readonly List<WebSocketFrame> Kept = new();\n" +
        "    static void Keep(WebSocketFrame frame) => Kept.Add(frame);\n" +
        "    static bool Check() => true;\n";

    /// <summary>The diagnostic <paramref name="id"/> at markup location <paramref name="index"/> with its message arguments.</summary>
    public static DiagnosticResult At(DiagnosticDescriptor descriptor, int index, params object[] arguments) =>
        new DiagnosticResult(descriptor).WithLocation(index).WithArguments(arguments).WithOptions(DiagnosticOptions.IgnoreAdditionalLocations);

    public static Task Verify(string members, params DiagnosticResult[] expected) => VerifyWith(members, "", expected);

    /// <summary>Like <see cref="Verify"/>, with <paramref name="types"/> (extension classes, interfaces) declared next to class C.</summary>
    public static Task VerifyWith(string members, string types, params DiagnosticResult[] expected)
    {
        var test = new AnalyzerTest(InClass(members) + types);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }
}
