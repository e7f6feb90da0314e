using Microsoft.CodeAnalysis;

namespace WsGen.Analyzers;

/// <summary>Every diagnostic the WsGen analyzers report. IDs are stable: never reuse or renumber one.</summary>
public static class DiagnosticDescriptors
{
    /// <summary>Category of every WsGen rule.</summary>
    public const string Category = "WsGen.Usage";

    /// <summary>WSG001: the payload of a frame, or a Memory/Span taken from it, is used after Release().</summary>
    public const string PayloadUsedAfterReleaseId = "WSG001";

    /// <summary>WSG002: Release() on a frame that is already released.</summary>
    public const string DoubleReleaseId = "WSG002";

    /// <summary>WSG003: a frame the method owns reaches the end of the method without being released.</summary>
    public const string FrameNotReleasedId = "WSG003";

    /// <summary>Property set on a WSG001 diagnostic whose only reaching Release() is in
    /// <see cref="Diagnostic.AdditionalLocations"/>[0]: the code fix may try to move it.</summary>
    public const string ReleaseLocationProperty = "ReleaseLocation";

    /// <summary>WSG001 (error).</summary>
    public static readonly DiagnosticDescriptor PayloadUsedAfterRelease = new(
        PayloadUsedAfterReleaseId,
        title: "WebSocketFrame payload used after Release()",
        messageFormat: "'{0}' uses the payload of a WebSocketFrame after Release() ran {1}; the buffer belongs to the pool again",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Release() returns the frame's buffer to its pool. Reading Payload, or a Memory/Span taken from it, afterwards reads memory that another connection may already be writing. Copy what you need (ToArray(), a length in an int) before Release(), or release after the last use.");

    /// <summary>WSG002 (warning).</summary>
    public static readonly DiagnosticDescriptor DoubleRelease = new(
        DoubleReleaseId,
        title: "WebSocketFrame released twice",
        messageFormat: "'{0}' releases a WebSocketFrame that was already released {1}; the second Release() throws",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "WebSocketFrame.Release() gives the buffer back exactly once and throws InvalidOperationException when called again.");

    /// <summary>WSG003 (warning, on by default: see the remarks of <c>UnreleasedFrameRule</c>).</summary>
    public static readonly DiagnosticDescriptor FrameNotReleased = new(
        FrameNotReleasedId,
        title: "WebSocketFrame never released",
        messageFormat: "The WebSocketFrame from '{0}' can reach the end of '{1}' without being released, returned, stored or passed on; its buffer never goes back to the pool",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "A frame from IWebSocketConn.ReadFrame() or an OnMessage parameter belongs to the method: it must be released (or handed to code that releases it) on every path, or the pool runs dry.");
}
