using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace WsGen.Generators;

/// <summary>Turns a class carrying <c>[WebSocketEndpoint]</c> into an <see cref="EndpointModel"/>, or null when it
/// breaks a rule of <see cref="EndpointChecks"/> (the analyzer reports why).</summary>
internal static class EndpointParser
{
    /// <summary>The namespace WsGenApp goes to when the first endpoint is in the global namespace.</summary>
    public const string FallbackNamespace = "WsGen.Generated";

    public static EndpointModel? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length != 1)
            return null;
        var problems = new List<EndpointProblem>();
        var facts = EndpointChecks.Inspect(type, context.Attributes[0], problems, cancellationToken);
        if (problems.Count > 0 || facts.OnMessage is not { } onMessage)
            return null;

        var values = facts.Values;
        var subProtocols = new string[values.SubProtocols.Count];
        for (int i = 0; i < subProtocols.Length; i++)
            subProtocols[i] = values.SubProtocols[i]!;
        var settings = new EndpointSettings(
            values.Path!,
            values.MaxConnections,
            values.MaxMessageSize,
            values.ReceiveBufferSize,
            values.MaxBackpressure,
            values.IdleTimeoutSeconds,
            values.IdleTimeoutGiven,
            new EquatableArray<string>(subProtocols),
            new EquatableArray<string>(values.Topics.ToArray()),
            values.PublishLimit,
            values.SlowSubscribers,
            values.Compression);

        var ns = type.ContainingNamespace is { IsGlobalNamespace: false } containing ? containing.ToDisplayString() : "";
        return new EndpointModel(
            ns,
            type.Name,
            type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            TakenNames(type),
            Services(type),
            settings,
            Handler(facts.OnOpen),
            Handler(onMessage)!,
            Handler(facts.OnClose),
            Handler(facts.OnError),
            Handler(facts.OnUpgrade));
    }

    /// <summary>The parameter types of the constructor WsGen calls (see <see cref="EndpointChecks.ServingConstructor"/>).</summary>
    private static EquatableArray<string> Services(INamedTypeSymbol type)
    {
        var services = new List<string>();
        foreach (var parameter in EndpointChecks.ServingConstructor(type)!.Parameters)
            services.Add(parameter.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat));
        return new EquatableArray<string>(services.ToArray());
    }

    /// <summary>The generated constants' names that <paramref name="type"/> or a base class already has a member of:
    /// emitting them would not compile (or would hide the inherited member).</summary>
    private static EquatableArray<string> TakenNames(INamedTypeSymbol type)
    {
        var taken = new List<string>();
        foreach (string name in EndpointSettings.ConstantNames)
        {
            for (var t = type; t is not null; t = t.BaseType)
            {
                if (t.GetMembers(name).Length > 0)
                {
                    taken.Add(name);
                    break;
                }
            }
        }

        return new EquatableArray<string>(taken.ToArray());
    }

    private static HandlerModel? Handler(HandlerShape? shape) =>
        shape is { } s ? new HandlerModel(s.ReturnsValueTask, s.TakesFrame) : null;

    /// <summary>The platform a RuntimeIdentifier names.</summary>
    public static TargetPlatform PlatformOf(string? runtimeIdentifier)
    {
        if (string.IsNullOrEmpty(runtimeIdentifier))
            return TargetPlatform.Any;
        string rid = runtimeIdentifier!.ToLowerInvariant();
        if (rid.StartsWith("linux", System.StringComparison.Ordinal))
            return TargetPlatform.Linux;
        if (rid.StartsWith("osx", System.StringComparison.Ordinal) || rid.StartsWith("freebsd", System.StringComparison.Ordinal))
            return TargetPlatform.Bsd;
        if (rid.StartsWith("win", System.StringComparison.Ordinal))
            return TargetPlatform.Windows;
        return TargetPlatform.Any;
    }

    /// <summary>The endpoints in dispatch order (by fully qualified name, ordinal, so that file order does not
    /// matter), or null when two share a path (WSG105 reports it; the runtime would refuse the routes).</summary>
    public static AppModel? CreateApp(IReadOnlyList<EndpointModel> endpoints, TargetPlatform platform)
    {
        if (endpoints.Count == 0)
            return null;
        var sorted = new EndpointModel[endpoints.Count];
        for (int i = 0; i < sorted.Length; i++)
            sorted[i] = endpoints[i];
        System.Array.Sort(sorted, (a, b) => string.CompareOrdinal(a.FullyQualifiedName, b.FullyQualifiedName));
        var paths = new HashSet<string>(System.StringComparer.Ordinal);
        foreach (var endpoint in sorted)
            if (!paths.Add(endpoint.Settings.Path))
                return null;
        string ns = sorted[0].Namespace.Length > 0 ? sorted[0].Namespace : FallbackNamespace;
        return new AppModel(ns, new EquatableArray<EndpointModel>(sorted), platform);
    }
}
