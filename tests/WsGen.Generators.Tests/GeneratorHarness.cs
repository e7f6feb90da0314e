using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using WsGen.Analyzers.Tests;

namespace WsGen.Generators.Tests;

/// <summary>Runs <see cref="EndpointGenerator"/> over test sources, offline, with step tracking on.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public const string Usings = "using System;\nusing System.Threading.Tasks;\nusing WsGen;\n\n";

    public static CSharpCompilation Compile(params string[] sources) =>
        CSharpCompilation.Create(
            "EndpointTests",
            sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"Source{i}.cs")),
            OfflineReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(string? runtimeIdentifier) =>
        CSharpGeneratorDriver.Create(
            [new EndpointGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            optionsProvider: new OptionsProvider(runtimeIdentifier),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>The generated sources, by hint name, and the compilation with them added.</summary>
    public static (ImmutableArray<GeneratedSourceResult> Sources, Compilation Output) Run(string? runtimeIdentifier, params string[] sources)
    {
        var driver = CreateDriver(runtimeIdentifier).RunGeneratorsAndUpdateCompilation(Compile(sources), out var output, out var diagnostics);
        Assert.Empty(diagnostics);
        return (driver.GetRunResult().Results.Single().GeneratedSources, output);
    }

    /// <summary>Every generated file in hint-name order, each under a line naming it: one text per case.</summary>
    public static string Concatenate(ImmutableArray<GeneratedSourceResult> sources) =>
        string.Concat(sources.OrderBy(s => s.HintName, StringComparer.Ordinal)
            .Select(s => "//// " + s.HintName + "\n" + s.SourceText.ToString()));

    private sealed class OptionsProvider(string? runtimeIdentifier) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(runtimeIdentifier);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;
    }

    private sealed class Options(string? runtimeIdentifier) : AnalyzerConfigOptions
    {
        public static readonly Options Empty = new(null);

        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value)
        {
            value = key == "build_property.RuntimeIdentifier" ? runtimeIdentifier : null;
            return value is not null;
        }
    }
}
