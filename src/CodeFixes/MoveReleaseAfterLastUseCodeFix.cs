using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using WsGen.Analyzers;

namespace WsGen.CodeFixes;

/// <summary>
/// Fixes WSG001 by moving the <c>frame.Release();</c> statement down, after the last statement of the same
/// block that touches the frame or a Memory/Span local. Offered only when that cannot change behavior
/// otherwise: the release is the only one reaching the use (the analyzer says which), the statements moved
/// over contain no jump (return, break, continue, goto, throw, yield), and they touch the frame only through
/// its Payload, Header, Opcode or IsFinal, and no other frame variable (which could be an alias).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MoveReleaseAfterLastUseCodeFix)), Shared]
public sealed class MoveReleaseAfterLastUseCodeFix : CodeFixProvider
{
    private const string Title = "Move Release() after the last use of the payload";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.PayloadUsedAfterReleaseId);

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (!diagnostic.Properties.ContainsKey(DiagnosticDescriptors.ReleaseLocationProperty) || diagnostic.AdditionalLocations.Count == 0)
            return;
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
            return;
        var use = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
        var release = root.FindNode(diagnostic.AdditionalLocations[0].SourceSpan, getInnermostNodeForTie: true);
        if (Plan(use, release, model, context.CancellationToken) is not { } plan)
            return;
        context.RegisterCodeFix(
            CodeAction.Create(Title, ct => Apply(context.Document, root, plan), equivalenceKey: Title),
            diagnostic);
    }

    private readonly struct MovePlan
    {
        public MovePlan(BlockSyntax block, int releaseIndex, int lastUseIndex)
        {
            Block = block;
            ReleaseIndex = releaseIndex;
            LastUseIndex = lastUseIndex;
        }

        public BlockSyntax Block { get; }

        public int ReleaseIndex { get; }

        public int LastUseIndex { get; }
    }

    private static MovePlan? Plan(SyntaxNode use, SyntaxNode release, SemanticModel model, CancellationToken cancellation)
    {
        if (release.FirstAncestorOrSelf<InvocationExpressionSyntax>() is not { Expression: MemberAccessExpressionSyntax { Expression: IdentifierNameSyntax receiver } } invocation
            || invocation.Parent is not ExpressionStatementSyntax releaseStatement
            || releaseStatement.Parent is not BlockSyntax block)
            return null;
        if (model.GetSymbolInfo(receiver, cancellation).Symbol is not ({ } frame and (ILocalSymbol or IParameterSymbol)))
            return null;
        var statements = block.Statements;
        var releaseIndex = statements.IndexOf(releaseStatement);
        var useStatement = use.AncestorsAndSelf().OfType<StatementSyntax>().FirstOrDefault(s => s.Parent == block);
        if (useStatement is null || statements.IndexOf(useStatement) <= releaseIndex)
            return null;

        var lastUseIndex = -1;
        for (var i = releaseIndex + 1; i < statements.Count; i++)
        {
            if (TouchesPayload(statements[i], frame, model, cancellation))
                lastUseIndex = i;
        }
        for (var i = releaseIndex + 1; i <= lastUseIndex; i++)
        {
            if (!IsSafeToMoveOver(statements[i], frame, model, cancellation))
                return null;
        }
        return lastUseIndex < 0 ? null : new MovePlan(block, releaseIndex, lastUseIndex);
    }

    /// <summary>True when <paramref name="statement"/> mentions the frame or a Memory/Span local.</summary>
    private static bool TouchesPayload(StatementSyntax statement, ISymbol frame, SemanticModel model, CancellationToken cancellation)
    {
        foreach (var name in statement.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>())
        {
            var symbol = model.GetSymbolInfo(name, cancellation).Symbol;
            if (SymbolEqualityComparer.Default.Equals(symbol, frame))
                return true;
            var type = symbol switch
            {
                ILocalSymbol local => local.Type,
                IParameterSymbol parameter => parameter.Type,
                _ => null,
            };
            if (type is INamedTypeSymbol { IsGenericType: true } named
                && named.OriginalDefinition.ToDisplayString() is "System.Memory<T>" or "System.ReadOnlyMemory<T>" or "System.Span<T>" or "System.ReadOnlySpan<T>")
                return true;
        }
        return false;
    }

    /// <summary>True when moving Release() past <paramref name="statement"/> keeps every path's behavior but the fix.</summary>
    private static bool IsSafeToMoveOver(StatementSyntax statement, ISymbol frame, SemanticModel model, CancellationToken cancellation)
    {
        foreach (var node in statement.DescendantNodesAndSelf(n => n is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax)))
        {
            switch (node)
            {
                case ReturnStatementSyntax or BreakStatementSyntax or ContinueStatementSyntax or GotoStatementSyntax
                    or ThrowStatementSyntax or ThrowExpressionSyntax or YieldStatementSyntax:
                    return false;
                case IdentifierNameSyntax name:
                    var symbol = model.GetSymbolInfo(name, cancellation).Symbol;
                    var type = symbol switch
                    {
                        ILocalSymbol local => local.Type,
                        IParameterSymbol parameter => parameter.Type,
                        _ => null,
                    };
                    if (type?.ToDisplayString() != "WsGen.WebSocketFrame")
                        break;
                    if (!SymbolEqualityComparer.Default.Equals(symbol, frame))
                        return false;
                    if (name.Parent is not MemberAccessExpressionSyntax access || access.Expression != name
                        || access.Name.Identifier.ValueText is not ("Payload" or "Header" or "Opcode" or "IsFinal"))
                        return false;
                    break;
            }
        }
        return true;
    }

    private static Task<Document> Apply(Document document, SyntaxNode root, MovePlan plan)
    {
        var statements = plan.Block.Statements;
        var release = statements[plan.ReleaseIndex];
        var reordered = new List<StatementSyntax>(statements.Count);
        for (var i = 0; i < statements.Count; i++)
        {
            if (i != plan.ReleaseIndex)
                reordered.Add(statements[i]);
            if (i == plan.LastUseIndex)
                reordered.Add(release);
        }
        var newBlock = plan.Block.WithStatements(SyntaxFactory.List(reordered));
        return Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(plan.Block, newBlock)));
    }
}
