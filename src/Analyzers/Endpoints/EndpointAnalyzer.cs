using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using WsGen.Generators;

namespace WsGen.Analyzers;

/// <summary>
/// Reports the WSG1xx rules of <c>[WebSocketEndpoint]</c> classes. The checks are the generator's own
/// (<see cref="EndpointChecks"/>, compiled into both assemblies), so a class the generator skips always gets a
/// diagnostic that says why.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class EndpointAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
    [
        EndpointDiagnosticDescriptors.NotPartial,
        EndpointDiagnosticDescriptors.BadClassShape,
        EndpointDiagnosticDescriptors.NoMessageHandler,
        EndpointDiagnosticDescriptors.BadHandler,
        EndpointDiagnosticDescriptors.DuplicatePath,
        EndpointDiagnosticDescriptors.InvalidPath,
        EndpointDiagnosticDescriptors.InvalidSize,
        EndpointDiagnosticDescriptors.InconsistentSizes,
        EndpointDiagnosticDescriptors.NegativeIdleTimeout,
        EndpointDiagnosticDescriptors.BadSubProtocol,
    ];

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var attributeType = start.Compilation.GetTypeByMetadataName(EndpointChecks.AttributeMetadataName);
            if (attributeType is null)
                return;
            var paths = new ConcurrentBag<(string Path, string Type, Location Location)>();
            start.RegisterSymbolAction(symbol => AnalyzeType(symbol, attributeType, paths), SymbolKind.NamedType);
            start.RegisterCompilationEndAction(end => ReportDuplicatePaths(end, paths));
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, INamedTypeSymbol attributeType, ConcurrentBag<(string, string, Location)> paths)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        AttributeData? attribute = null;
        foreach (var candidate in type.GetAttributes())
            if (SymbolEqualityComparer.Default.Equals(candidate.AttributeClass, attributeType))
                attribute = candidate;
        if (attribute is null)
            return;

        var problems = new List<EndpointProblem>();
        var facts = EndpointChecks.Inspect(type, attribute, problems, context.CancellationToken);
        foreach (var problem in problems)
            context.ReportDiagnostic(Diagnostic.Create(Descriptor(problem.Kind), problem.Location, problem.Arguments));

        if (facts.Values.Path is { } path && EndpointChecks.IsValidPath(path))
        {
            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken);
            var location = syntax is Microsoft.CodeAnalysis.CSharp.Syntax.AttributeSyntax { ArgumentList.Arguments.Count: > 0 } a
                ? a.ArgumentList!.Arguments[0].Expression.GetLocation()
                : type.Locations.FirstOrDefault() ?? Location.None;
            paths.Add((path, type.ToDisplayString(), location));
        }
    }

    /// <summary>Every endpoint whose path an endpoint sorting before it (by type name) already has gets WSG105.</summary>
    private static void ReportDuplicatePaths(CompilationAnalysisContext context, ConcurrentBag<(string Path, string Type, Location Location)> paths)
    {
        var first = new Dictionary<string, string>(System.StringComparer.Ordinal);
        foreach (var entry in paths.OrderBy(p => p.Type, System.StringComparer.Ordinal))
        {
            if (first.TryGetValue(entry.Path, out var owner))
                context.ReportDiagnostic(Diagnostic.Create(EndpointDiagnosticDescriptors.DuplicatePath, entry.Location, entry.Path, entry.Type, owner));
            else
                first.Add(entry.Path, entry.Type);
        }
    }

    private static DiagnosticDescriptor Descriptor(EndpointProblemKind kind) => kind switch
    {
        EndpointProblemKind.NotPartial => EndpointDiagnosticDescriptors.NotPartial,
        EndpointProblemKind.BadClassShape => EndpointDiagnosticDescriptors.BadClassShape,
        EndpointProblemKind.NoMessageHandler => EndpointDiagnosticDescriptors.NoMessageHandler,
        EndpointProblemKind.BadHandler => EndpointDiagnosticDescriptors.BadHandler,
        EndpointProblemKind.InvalidPath => EndpointDiagnosticDescriptors.InvalidPath,
        EndpointProblemKind.InvalidSize => EndpointDiagnosticDescriptors.InvalidSize,
        EndpointProblemKind.InconsistentSizes => EndpointDiagnosticDescriptors.InconsistentSizes,
        EndpointProblemKind.NegativeIdleTimeout => EndpointDiagnosticDescriptors.NegativeIdleTimeout,
        _ => EndpointDiagnosticDescriptors.BadSubProtocol,
    };
}
