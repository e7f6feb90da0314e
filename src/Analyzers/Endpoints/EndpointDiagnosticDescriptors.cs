using Microsoft.CodeAnalysis;

namespace WsGen.Analyzers;

/// <summary>The WSG1xx diagnostics: misuse of <c>[WebSocketEndpoint]</c>. IDs are stable: never reuse or renumber one.</summary>
public static class EndpointDiagnosticDescriptors
{
    /// <summary>Category of the endpoint rules.</summary>
    public const string Category = "WsGen.Endpoints";

    public static readonly DiagnosticDescriptor NotPartial = Rule(
        "WSG101", "WebSocket endpoint class is not partial",
        "The [WebSocketEndpoint] class '{0}' must be partial: add the 'partial' modifier so that WsGen can generate its dispatcher");

    public static readonly DiagnosticDescriptor BadClassShape = Rule(
        "WSG102", "WebSocket endpoint class cannot be instantiated by WsGen",
        "The [WebSocketEndpoint] class '{0}' is {1}; an endpoint must be a non-static, non-abstract, non-generic, top-level class (not a record, not file-local) with a public or internal parameterless constructor, or a single public or internal constructor whose parameters are services");

    public static readonly DiagnosticDescriptor NoMessageHandler = Rule(
        "WSG103", "WebSocket endpoint has no OnMessage handler",
        "The [WebSocketEndpoint] class '{0}' has no OnMessage method: add 'void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)' (borrowed payload) or 'void OnMessage(IWebSocketConn conn, WebSocketFrame frame)' (owned frame; release it)");

    public static readonly DiagnosticDescriptor BadHandler = Rule(
        "WSG104", "WebSocket endpoint handler has a wrong signature",
        "'{0}' is not a handler WsGen can call: {1}");

    public static readonly DiagnosticDescriptor DuplicatePath = Rule(
        "WSG105", "Two WebSocket endpoints share a path",
        "The path \"{0}\" of '{1}' is also the path of '{2}': give every [WebSocketEndpoint] its own path", compilationEnd: true);

    public static readonly DiagnosticDescriptor InvalidPath = Rule(
        "WSG106", "WebSocket endpoint path is invalid",
        "The endpoint path \"{0}\" is invalid: a path starts with '/' and has no whitespace, '?' or '#' (the query is not part of it), or is \"*\" for every path no other endpoint takes");

    public static readonly DiagnosticDescriptor InvalidSize = Rule(
        "WSG107", "WebSocket endpoint size is out of range",
        "{0} = {1} is out of range: it must {2}");

    public static readonly DiagnosticDescriptor InconsistentSizes = Rule(
        "WSG108", "WebSocket endpoint sizes are inconsistent",
        "MaxBackpressure = {0} is smaller than MaxMessageSize = {1} plus a frame header: an echo of a maximal message would abort the connection; raise MaxBackpressure to at least {2} or lower MaxMessageSize");

    public static readonly DiagnosticDescriptor NegativeIdleTimeout = Rule(
        "WSG109", "WebSocket endpoint idle timeout is negative",
        "IdleTimeoutSeconds = {0} is negative: use a number of seconds, or 0 to turn idle detection off");

    public static readonly DiagnosticDescriptor BadSubProtocol = Rule(
        "WSG110", "WebSocket endpoint subprotocol is invalid or repeated",
        "The subprotocol \"{0}\" {1}: list each subprotocol once, as an HTTP token");

    private static DiagnosticDescriptor Rule(string id, string title, string message, bool compilationEnd = false) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
            customTags: compilationEnd ? [WellKnownDiagnosticTags.CompilationEnd] : []);
}
