using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace WsGen.Generators;

/// <summary>
/// The <c>[WebSocketEndpoint]</c> generator. For every valid endpoint class it emits a partial part with the
/// attribute's sizes as constants; for the compilation it emits <c>WsGenApp</c> (the entry point) and the
/// dispatcher struct that calls the handlers directly, with the loop chosen from the build's RuntimeIdentifier.
/// Invalid classes produce no code; the WSG1xx analyzer says why.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class EndpointGenerator : IIncrementalGenerator
{
    /// <summary>Names of the tracked pipeline steps (the incremental-caching tests look them up).</summary>
    public static class Steps
    {
        public const string Endpoints = "Endpoints";
        public const string ValidEndpoints = "ValidEndpoints";
        public const string AllEndpoints = "AllEndpoints";
        public const string Platform = "Platform";
        public const string App = "App";
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var endpoints = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                EndpointChecks.AttributeMetadataName,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => EndpointParser.Parse(ctx, ct))
            .WithTrackingName(Steps.Endpoints)
            .Where(static endpoint => endpoint is not null)
            .Select(static (endpoint, _) => endpoint!)
            .WithTrackingName(Steps.ValidEndpoints);

        context.RegisterSourceOutput(endpoints, static (spc, endpoint) =>
            spc.AddSource(EndpointEmitter.HintName(endpoint), EndpointEmitter.Emit(endpoint)));

        var all = endpoints
            .Collect()
            .Select(static (list, _) => new EquatableArray<EndpointModel>(list))
            .WithTrackingName(Steps.AllEndpoints);

        var platform = context.AnalyzerConfigOptionsProvider
            .Select(static (provider, _) =>
                EndpointParser.PlatformOf(provider.GlobalOptions.TryGetValue("build_property.RuntimeIdentifier", out var rid) ? rid : null))
            .WithTrackingName(Steps.Platform);

        var app = all
            .Combine(platform)
            .Select(static (pair, _) => EndpointParser.CreateApp(pair.Left, pair.Right))
            .WithTrackingName(Steps.App);

        context.RegisterSourceOutput(app, static (spc, model) =>
        {
            if (model is not null)
                spc.AddSource(AppEmitter.HintName, AppEmitter.Emit(model));
        });
    }
}
