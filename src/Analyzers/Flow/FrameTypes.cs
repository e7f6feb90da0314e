using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

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
            compilation.GetTypeByMetadataName("System.ArraySegment`1"),
        };
        _memoryMarshal = compilation.GetTypeByMetadataName("System.Runtime.InteropServices.MemoryMarshal");
    }

    private readonly INamedTypeSymbol? _memoryMarshal;

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

    /// <summary>True for Memory, ReadOnlyMemory, Span, ReadOnlySpan and ArraySegment of any element type: what can
    /// alias a payload.</summary>
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

    /// <summary>True for the types the analysis follows: a frame, or what can alias a payload.</summary>
    public bool IsTracked(ITypeSymbol? type) => IsFrame(type) || IsPayloadLike(type);

    /// <summary>True for a field or an auto-property (declared here, not virtual) whose type the analysis follows:
    /// what it holds changes only where it is assigned.</summary>
    public bool IsTrackedMember(ISymbol member) =>
        member switch
        {
            IFieldSymbol field => !field.IsConst && !field.ContainingType.IsTupleType && IsTracked(field.Type),
            IPropertySymbol property => IsTracked(property.Type) && IsAutoProperty(property),
            _ => false,
        };

    private static bool IsAutoProperty(IPropertySymbol property)
    {
        if (property.IsAbstract || property.IsVirtual || property.IsOverride || property.IsExtern || property.IsIndexer
            || property.DeclaringSyntaxReferences.Length != 1)
            return false;
        return property.DeclaringSyntaxReferences[0].GetSyntax() is PropertyDeclarationSyntax
        {
            ExpressionBody: null,
            AccessorList: { } accessors,
        } declaration
            && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword)
            && accessors.Accessors.All(a => a.Body is null && a.ExpressionBody is null);
    }

    /// <summary>True for <c>MemoryMarshal.TryGetArray</c>, whose out ArraySegment aliases the memory it is given.</summary>
    public bool IsTryGetArray(IMethodSymbol method) =>
        method.Name == "TryGetArray" && SymbolEqualityComparer.Default.Equals(method.ContainingType, _memoryMarshal);

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
