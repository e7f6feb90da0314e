using Microsoft.CodeAnalysis;

namespace WsGen.Analyzers.Flow;

/// <summary>The symbols the flow analysis recognizes, resolved once per compilation by metadata name.</summary>
internal sealed class FrameTypes
{
    private FrameTypes(INamedTypeSymbol frame, INamedTypeSymbol? conn, Compilation compilation)
    {
        Frame = frame;
        Conn = conn;
        _payloadLike = new[]
        {
            compilation.GetTypeByMetadataName("System.Memory`1"),
            compilation.GetTypeByMetadataName("System.ReadOnlyMemory`1"),
            compilation.GetTypeByMetadataName("System.Span`1"),
            compilation.GetTypeByMetadataName("System.ReadOnlySpan`1"),
        };
    }

    private readonly INamedTypeSymbol?[] _payloadLike;

    /// <summary><c>WsGen.WebSocketFrame</c>.</summary>
    public INamedTypeSymbol Frame { get; }

    /// <summary><c>WsGen.IWebSocketConn</c>, when the compilation references it.</summary>
    public INamedTypeSymbol? Conn { get; }

    /// <summary>The types, or null when the compilation does not reference WsGen.Runtime.</summary>
    public static FrameTypes? Create(Compilation compilation)
    {
        var frame = compilation.GetTypeByMetadataName("WsGen.WebSocketFrame");
        return frame is null ? null : new FrameTypes(frame, compilation.GetTypeByMetadataName("WsGen.IWebSocketConn"), compilation);
    }

    /// <summary>True for WebSocketFrame (nullable or not).</summary>
    public bool IsFrame(ITypeSymbol? type) =>
        type is not null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, Frame);

    /// <summary>True for Memory, ReadOnlyMemory, Span and ReadOnlySpan of any element type: what can alias a payload.</summary>
    public bool IsPayloadLike(ITypeSymbol? type)
    {
        if (type is not INamedTypeSymbol { IsGenericType: true } named)
            return false;
        var definition = named.OriginalDefinition;
        foreach (var candidate in _payloadLike)
        {
            if (SymbolEqualityComparer.Default.Equals(definition, candidate))
                return true;
        }
        return false;
    }

    /// <summary>True for a member declared on WebSocketFrame with the given name.</summary>
    public bool IsFrameMember(ISymbol? member, string name) =>
        member is not null && member.Name == name && SymbolEqualityComparer.Default.Equals(member.ContainingType, Frame);

    /// <summary>True for <c>WebSocketFrame.Release()</c>.</summary>
    public bool IsRelease(IMethodSymbol method) => method.Parameters.Length == 0 && IsFrameMember(method, "Release");

    /// <summary>True for a member named <paramref name="name"/> on IWebSocketConn or a type implementing it.</summary>
    public bool IsConnMember(IMethodSymbol method, string name)
    {
        if (Conn is null || method.Name != name)
            return false;
        var type = method.ContainingType;
        if (SymbolEqualityComparer.Default.Equals(type, Conn))
            return true;
        foreach (var implemented in type.AllInterfaces)
        {
            if (SymbolEqualityComparer.Default.Equals(implemented, Conn))
                return true;
        }
        return false;
    }

    /// <summary>True for IWebSocketConn.ReadFrame() (or an implementation of it) returning a frame.</summary>
    public bool IsReadFrame(IMethodSymbol method) => IsConnMember(method, "ReadFrame") && IsFrame(method.ReturnType);

    /// <summary>True when <paramref name="parameter"/> is a frame handed to an OnMessage handler, which owns it.</summary>
    public bool IsOwnedParameter(IParameterSymbol parameter) =>
        IsFrame(parameter.Type) && parameter.RefKind == RefKind.None && parameter.ContainingSymbol is IMethodSymbol { Name: "OnMessage" };
}
