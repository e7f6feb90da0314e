using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using WsGen.Analyzers.Flow;

namespace WsGen.Analyzers;

/// <summary>
/// Runs the frame flow analysis once per method body and hands the findings to the three rules
/// (<see cref="PayloadUseAfterReleaseRule"/>, <see cref="DoubleReleaseRule"/>, <see cref="UnreleasedFrameRule"/>).
/// Does nothing in a compilation that does not reference <c>WsGen.WebSocketFrame</c>.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class FrameFlowAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.PayloadUsedAfterRelease,
        DiagnosticDescriptors.DoubleRelease,
        DiagnosticDescriptors.FrameNotReleased);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (FrameTypes.Create(start.Compilation) is not { } types)
                return;
            var summaries = new SummaryCache(start.Compilation, types);
            var compilation = start.Compilation;
            var frameMembers = new Lazy<HashSet<string>>(() => FrameMemberNames(compilation, types));
            start.RegisterOperationBlockAction(block => AnalyzeBlock(block, types, summaries, frameMembers));
        });
    }

    private static void AnalyzeBlock(OperationBlockAnalysisContext context, FrameTypes types, SummaryCache summaries, Lazy<HashSet<string>> frameMembers)
    {
        if (context.OwningSymbol is not IMethodSymbol method)
            return;
        // A method body arrives as its block (or, for some members, as the whole method body): analyze
        // one of the two, never both.
        var hasMethodBody = context.OperationBlocks.Any(b => b is IMethodBodyBaseOperation);
        foreach (var body in context.OperationBlocks)
        {
            var isBody = body is IMethodBodyBaseOperation || (!hasMethodBody && body is IBlockOperation);
            if (!isBody || !MayConcernFrames(body.Syntax, method, types, frameMembers))
                continue;
            FrameFindings findings;
            try
            {
                var block = body;
                findings = summaries.Analyze(method, () => context.GetControlFlowGraph(block), context.CancellationToken);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                // A shape the flow graph APIs reject (typically code that does not compile yet): stay silent
                // rather than fail the build with AD0001.
                continue;
            }
            PayloadUseAfterReleaseRule.Report(findings, context.ReportDiagnostic);
            DoubleReleaseRule.Report(findings, context.ReportDiagnostic);
            UnreleasedFrameRule.Report(findings, context.ReportDiagnostic);
        }
    }

    /// <summary>A cheap syntactic filter: without a frame parameter and without a mention of Release, ReadFrame,
    /// Payload, WebSocketFrame or a member of the compilation that takes or gives a frame, no rule can report, so the
    /// control-flow graph is not even built.</summary>
    private static bool MayConcernFrames(SyntaxNode body, IMethodSymbol method, FrameTypes types, Lazy<HashSet<string>> frameMembers)
    {
        foreach (var parameter in method.Parameters)
        {
            if (types.IsFrame(parameter.Type))
                return true;
        }
        foreach (var token in body.DescendantTokens())
        {
            if (!token.IsKind(SyntaxKind.IdentifierToken))
                continue;
            if (token.ValueText is "Release" or "ReadFrame" or "Payload" or "WebSocketFrame" || frameMembers.Value.Contains(token.ValueText))
                return true;
        }
        return false;
    }

    /// <summary>The names of the compilation's methods that take or return a frame and of its fields and properties
    /// that hold one: a body that mentions one of them may get a frame without naming its type.</summary>
    private static HashSet<string> FrameMemberNames(Compilation compilation, FrameTypes types)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var symbol in compilation.GetSymbolsWithName(_ => true, SymbolFilter.Member))
        {
            var concerns = symbol switch
            {
                IMethodSymbol method => types.IsFrame(method.ReturnType) || method.Parameters.Any(p => types.IsFrame(p.Type)),
                IPropertySymbol property => types.IsFrame(property.Type),
                IFieldSymbol field => types.IsFrame(field.Type),
                _ => false,
            };
            if (concerns)
                names.Add(symbol.Name);
        }
        return names;
    }
}
