using Microsoft.CodeAnalysis;
using WsGen.Analyzers.Flow;

namespace WsGen.Analyzers;

/// <summary>
/// WSG002 (warning): <c>Release()</c> of a frame that is already released on every path or on some path
/// (the second call throws). A check of <c>IsReleased</c> or a null check on the frame narrows the paths.
/// </summary>
internal static class DoubleReleaseRule
{
    public static void Report(FrameFindings findings, Action<Diagnostic> report)
    {
        foreach (var release in findings.Releases)
        {
            report(Diagnostic.Create(
                DiagnosticDescriptors.DoubleRelease,
                release.Node.GetLocation(),
                release.Node.ToString(),
                PathWording.Of(release.State)));
        }
    }
}
