using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using WsGen.Analyzers.Flow;

namespace WsGen.Analyzers;

/// <summary>
/// WSG001 (error): a frame's <c>Payload</c>, or a Memory/Span derived from it (a local taken from it, its
/// <c>Span</c>, a <c>Slice</c> or range of either), is read where <c>Release()</c> of the same frame has run
/// on every path or on some path. Reading <c>Length</c>/<c>IsEmpty</c> of a derived local is not a use (the
/// struct, not the pooled bytes); copies taken before the release (<c>ToArray()</c>, an int) are untracked.
/// </summary>
internal static class PayloadUseAfterReleaseRule
{
    public static void Report(FrameFindings findings, Action<Diagnostic> report)
    {
        foreach (var use in findings.Uses)
        {
            var additional = Enumerable.Empty<Location>();
            var properties = ImmutableDictionary<string, string?>.Empty;
            if (use.State == ReleaseState.Released && use.ReleaseSite is { } release)
            {
                additional = new[] { release.Syntax.GetLocation() };
                properties = properties.Add(DiagnosticDescriptors.ReleaseLocationProperty, "0");
            }
            report(Diagnostic.Create(
                DiagnosticDescriptors.PayloadUsedAfterRelease,
                use.Node.GetLocation(),
                additional,
                properties,
                use.Node.ToString(),
                PathWording.Of(use.State)));
        }
    }
}

/// <summary>The wording shared by WSG001 and WSG002 messages.</summary>
internal static class PathWording
{
    public static string Of(ReleaseState state) => state == ReleaseState.Released ? "on every path" : "on some path";
}
