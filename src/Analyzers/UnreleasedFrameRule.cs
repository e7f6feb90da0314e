using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using WsGen.Analyzers.Flow;

namespace WsGen.Analyzers;

/// <summary>
/// WSG003 (warning): a frame the method owns (the result of <c>IWebSocketConn.ReadFrame()</c> kept in a
/// local, or the WebSocketFrame parameter of an <c>OnMessage</c> method) reaches the normal end of the method
/// on some path without being released, returned, stored or passed on.
/// </summary>
/// <remarks>
/// On by default. Ownership is only assumed where the runtime documents it (ReadFrame: "the caller owns it and
/// must Release it"; OnMessage receives the frame to release), and any other use of the frame than a member
/// access, an alias in a local, a null check or <c>IWebSocketConn.WriteFrame</c> (which leaves the frame the
/// caller's) counts as handing it on. So the rule only fires where the method visibly drops the frame, and a
/// leaked frame starves the pool in production, which is worth a warning in every build. A project that hands
/// frames on in ways the rule cannot see can turn it off with <c>dotnet_diagnostic.WSG003.severity = none</c>.
/// </remarks>
internal static class UnreleasedFrameRule
{
    public static void Report(FrameFindings findings, Action<Diagnostic> report)
    {
        foreach (var (origin, owner) in findings.Leaks)
        {
            var (location, name) = origin is ParameterSyntax parameter
                ? (parameter.Identifier.GetLocation(), parameter.Identifier.ValueText)
                : (origin.GetLocation(), origin.ToString());
            var ownerName = owner is IMethodSymbol { MethodKind: MethodKind.AnonymousFunction } ? "the lambda" : owner.Name;
            report(Diagnostic.Create(DiagnosticDescriptors.FrameNotReleased, location, name, ownerName));
        }
    }
}
