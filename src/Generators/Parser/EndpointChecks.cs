using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace WsGen.Generators;

/// <summary>
/// The rules a <c>[WebSocketEndpoint]</c> class must follow, shared by the generator (which emits nothing for a class
/// that breaks one) and the analyzer (which reports each broken rule as a WSG1xx diagnostic). This file compiles into
/// both assemblies.
/// </summary>
internal static class EndpointChecks
{
    /// <summary>The attribute the generator is driven by.</summary>
    public const string AttributeMetadataName = "WsGen.WebSocketEndpointAttribute";

    /// <summary>The largest MaxMessageSize accepted: 1 GiB.</summary>
    public const int MaxMessageSizeLimit = 1 << 30;

    /// <summary>The smallest ReceiveBufferSize accepted: 1 KiB.</summary>
    public const int MinReceiveBufferSize = 1024;

    /// <summary>The longest frame header: an echo of a maximal message needs MaxMessageSize plus this much room.</summary>
    public const int MaxFrameHeaderSize = 14;

    /// <summary>The handler shapes accepted, as the diagnostics state them.</summary>
    public const string OpenShapes = "void or ValueTask OnOpen(IWebSocketConn conn)";
    public const string MessageShapes = "void or ValueTask OnMessage(IWebSocketConn conn, WebSocketFrame frame) or OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)";
    public const string CloseShapes = "void or ValueTask OnClose(IWebSocketConn conn, CloseStatus status)";
    public const string ErrorShapes = "void or ValueTask OnError(IWebSocketConn conn, Exception error)";
    public const string UpgradeShapes = "WebSocketUpgradeDecision or ValueTask<WebSocketUpgradeDecision> OnUpgrade(WebSocketUpgradeRequest request)";
    private const string UpgradeShapeSuffix = "; an accessible (public or internal) non-generic instance method";
    private const string ShapeSuffix = "; an accessible (public or internal) non-generic instance method, the connection typed IWebSocketConn or WebSocketConnection";

    /// <summary>Reads <paramref name="attribute"/> and the handlers of <paramref name="type"/>, adding every broken rule
    /// to <paramref name="problems"/>. The endpoint is valid when nothing was added.</summary>
    public static EndpointFacts Inspect(INamedTypeSymbol type, AttributeData attribute, List<EndpointProblem> problems, CancellationToken cancellationToken)
    {
        var facts = new EndpointFacts(ReadValues(attribute));
        var classLocation = IdentifierLocation(type, cancellationToken);
        CheckClass(type, classLocation, problems, cancellationToken);
        CheckHandlers(type, facts, classLocation, problems);
        CheckValues(facts.Values, attribute, problems, cancellationToken);
        return facts;
    }

    private static void CheckClass(INamedTypeSymbol type, Location location, List<EndpointProblem> problems, CancellationToken cancellationToken)
    {
        if (!IsPartial(type, cancellationToken))
            problems.Add(new EndpointProblem(EndpointProblemKind.NotPartial, location, type.Name));

        string? shape =
            type.IsRecord ? "a record" :
            type.IsStatic ? "static" :
            type.IsAbstract ? "abstract" :
            type.Arity > 0 ? "generic" :
            type.ContainingType is not null ? "nested in another type" :
            type.IsFileLocal ? "file-local" :
            ServingConstructor(type) is null ? "without a constructor WsGen can call (a public or internal parameterless one, or a single public or internal one whose parameters the service container supplies)" :
            null;
        if (shape is not null)
            problems.Add(new EndpointProblem(EndpointProblemKind.BadClassShape, location, type.Name, shape));
    }

    private static bool IsPartial(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration && declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                return true;
        return false;
    }

    /// <summary>The constructor WsGen creates <paramref name="type"/> with: its accessible parameterless constructor,
    /// else its only accessible constructor, whose parameters are services (taken from the container when hosted);
    /// null when there is neither, or when that constructor has a ref, out, in or params parameter.</summary>
    public static IMethodSymbol? ServingConstructor(INamedTypeSymbol type)
    {
        IMethodSymbol? only = null;
        int accessible = 0;
        foreach (var constructor in type.InstanceConstructors)
        {
            if (!IsAccessible(constructor))
                continue;
            if (constructor.Parameters.Length == 0)
                return constructor;
            only = constructor;
            accessible++;
        }
        if (accessible != 1)
            return null;
        foreach (var parameter in only!.Parameters)
            if (parameter.RefKind != RefKind.None || parameter.IsParams)
                return null;
        return only;
    }

    private static bool IsAccessible(ISymbol symbol) =>
        symbol.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal;

    private static void CheckHandlers(INamedTypeSymbol type, EndpointFacts facts, Location classLocation, List<EndpointProblem> problems)
    {
        foreach (var member in type.GetMembers())
        {
            if (member is not IMethodSymbol { MethodKind: MethodKind.Ordinary } method)
                continue;
            var kind = member.Name switch
            {
                "OnOpen" => HandlerKind.Open,
                "OnMessage" => HandlerKind.Message,
                "OnClose" => HandlerKind.Close,
                "OnError" => HandlerKind.Error,
                "OnUpgrade" => HandlerKind.Upgrade,
                _ => (HandlerKind?)null,
            };
            if (kind is not { } handlerKind)
                continue;

            var location = method.Locations.Length > 0 ? method.Locations[0] : classLocation;
            if (!TryClassify(method, handlerKind, out var shape))
            {
                problems.Add(new EndpointProblem(EndpointProblemKind.BadHandler, location, method.Name,
                    ShapesOf(handlerKind) + (handlerKind == HandlerKind.Upgrade ? UpgradeShapeSuffix : ShapeSuffix)));
                continue;
            }
            if (facts.Handler(handlerKind) is not null)
            {
                problems.Add(new EndpointProblem(EndpointProblemKind.BadHandler, location, method.Name, "declare only one " + method.Name + " handler: " + ShapesOf(handlerKind)));
                continue;
            }
            facts.SetHandler(handlerKind, shape);
        }

        if (facts.OnMessage is null && !HasMessageMethod(type))
            problems.Add(new EndpointProblem(EndpointProblemKind.NoMessageHandler, classLocation, type.Name));
    }

    private static bool HasMessageMethod(INamedTypeSymbol type)
    {
        foreach (var member in type.GetMembers("OnMessage"))
            if (member is IMethodSymbol { MethodKind: MethodKind.Ordinary })
                return true;
        return false;
    }

    private static string ShapesOf(HandlerKind kind) => kind switch
    {
        HandlerKind.Open => OpenShapes,
        HandlerKind.Message => MessageShapes,
        HandlerKind.Close => CloseShapes,
        HandlerKind.Upgrade => UpgradeShapes,
        _ => ErrorShapes,
    };

    /// <summary>Whether <paramref name="method"/> is an accepted shape of a <paramref name="kind"/> handler.</summary>
    public static bool TryClassify(IMethodSymbol method, HandlerKind kind, out HandlerShape shape)
    {
        shape = default;
        if (method.IsStatic || method.Arity > 0 || !IsAccessible(method))
            return false;
        if (kind == HandlerKind.Upgrade)
            return TryClassifyUpgrade(method, out shape);
        bool returnsValueTask;
        if (method.ReturnsVoid)
            returnsValueTask = false;
        else if (!method.ReturnsByRef && !method.ReturnsByRefReadonly && IsNamed(method.ReturnType, "ValueTask", "System", "Threading", "Tasks") && method.ReturnType is INamedTypeSymbol { Arity: 0 })
            returnsValueTask = true;
        else
            return false;

        var parameters = method.Parameters;
        foreach (var parameter in parameters)
            if (parameter.RefKind != RefKind.None || parameter.IsParams)
                return false;
        if (parameters.Length == 0)
            return false;
        bool concrete;
        if (IsNamed(parameters[0].Type, "IWebSocketConn", "WsGen"))
            concrete = false;
        else if (IsNamed(parameters[0].Type, "WebSocketConnection", "WsGen"))
            concrete = true;
        else
            return false;

        bool frame = false;
        bool matches = kind switch
        {
            HandlerKind.Open => parameters.Length == 1,
            HandlerKind.Close => parameters.Length == 2 && IsNamed(parameters[1].Type, "CloseStatus", "WsGen"),
            HandlerKind.Error => parameters.Length == 2 && IsNamed(parameters[1].Type, "Exception", "System"),
            _ => parameters.Length == 2 && (frame = IsNamed(parameters[1].Type, "WebSocketFrame", "WsGen"))
                 || parameters.Length == 3 && IsByteSpan(parameters[1].Type) && IsNamed(parameters[2].Type, "WebSocketOpcode", "WsGen"),
        };
        if (!matches)
            return false;
        shape = new HandlerShape(returnsValueTask, concrete, frame);
        return true;
    }

    /// <summary>OnUpgrade: one WebSocketUpgradeRequest by value, returning the decision or a ValueTask of it.</summary>
    private static bool TryClassifyUpgrade(IMethodSymbol method, out HandlerShape shape)
    {
        shape = default;
        if (method.ReturnsByRef || method.ReturnsByRefReadonly || method.Parameters.Length != 1
            || method.Parameters[0].RefKind != RefKind.None || !IsNamed(method.Parameters[0].Type, "WebSocketUpgradeRequest", "WsGen"))
            return false;
        bool returnsValueTask;
        if (IsNamed(method.ReturnType, "WebSocketUpgradeDecision", "WsGen"))
            returnsValueTask = false;
        else if (method.ReturnType is INamedTypeSymbol { Arity: 1 } task && IsNamed(task, "ValueTask", "System", "Threading", "Tasks")
                 && IsNamed(task.TypeArguments[0], "WebSocketUpgradeDecision", "WsGen"))
            returnsValueTask = true;
        else
            return false;
        shape = new HandlerShape(returnsValueTask, concreteConnection: false, takesFrame: false);
        return true;
    }

    private static bool IsByteSpan(ITypeSymbol type) =>
        type is INamedTypeSymbol { Arity: 1 } named
        && IsNamed(named, "ReadOnlySpan", "System")
        && named.TypeArguments[0].SpecialType == SpecialType.System_Byte;

    /// <summary>Whether <paramref name="type"/> is <paramref name="name"/> in the namespace spelled by
    /// <paramref name="namespaceParts"/>, outermost first.</summary>
    private static bool IsNamed(ITypeSymbol type, string name, params string[] namespaceParts)
    {
        if (type.Name != name || type.ContainingType is not null)
            return false;
        var ns = type.ContainingNamespace;
        for (int i = namespaceParts.Length - 1; i >= 0; i--)
        {
            if (ns is null || ns.Name != namespaceParts[i])
                return false;
            ns = ns.ContainingNamespace;
        }
        return ns is { IsGlobalNamespace: true };
    }

    private static EndpointValues ReadValues(AttributeData attribute)
    {
        var values = new EndpointValues();
        if (attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string path)
            values.Path = path;
        foreach (var argument in attribute.NamedArguments)
        {
            var value = argument.Value;
            switch (argument.Key)
            {
                case "MaxConnections" when value.Value is int i: values.MaxConnections = i; break;
                case "MaxMessageSize" when value.Value is int i: values.MaxMessageSize = i; break;
                case "ReceiveBufferSize" when value.Value is int i: values.ReceiveBufferSize = i; break;
                case "MaxBackpressure" when value.Value is int i: values.MaxBackpressure = i; break;
                case "IdleTimeoutSeconds" when value.Value is int i: values.IdleTimeoutSeconds = i; values.IdleTimeoutGiven = true; break;
                case "Compression" when value.Value is byte b: values.Compression = b; break;
                case "SubProtocols" when value.Kind == TypedConstantKind.Array && !value.IsNull:
                    foreach (var item in value.Values)
                        values.SubProtocols.Add(item.Value as string);
                    break;
                case "Topics" when value.Kind == TypedConstantKind.Array && !value.IsNull:
                    foreach (var item in value.Values)
                    {
                        if (item.Value is string topic)
                            values.Topics.Add(topic);
                    }
                    break;
                case "PublishLimit" when value.Value is int i: values.PublishLimit = i; break;
                case "SlowSubscribers" when value.Value is int i: values.SlowSubscribers = i; break;
            }
        }
        return values;
    }

    private static void CheckValues(EndpointValues values, AttributeData attribute, List<EndpointProblem> problems, CancellationToken cancellationToken)
    {
        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        Location At(string? property) => ArgumentLocation(syntax, property) ?? syntax?.GetLocation() ?? Location.None;

        if (!IsValidPath(values.Path))
            problems.Add(new EndpointProblem(EndpointProblemKind.InvalidPath, At(null), values.Path ?? "null"));

        void Positive(string name, int value)
        {
            if (value <= 0)
                problems.Add(new EndpointProblem(EndpointProblemKind.InvalidSize, At(name), name, Format(value), "be greater than 0"));
        }
        Positive("MaxConnections", values.MaxConnections);
        Positive("MaxMessageSize", values.MaxMessageSize);
        Positive("MaxBackpressure", values.MaxBackpressure);
        if (values.MaxMessageSize > MaxMessageSizeLimit)
            problems.Add(new EndpointProblem(EndpointProblemKind.InvalidSize, At("MaxMessageSize"), "MaxMessageSize", Format(values.MaxMessageSize), "be at most 1 GiB (1073741824)"));
        if (values.ReceiveBufferSize < MinReceiveBufferSize)
            problems.Add(new EndpointProblem(EndpointProblemKind.InvalidSize, At("ReceiveBufferSize"), "ReceiveBufferSize", Format(values.ReceiveBufferSize), "be at least 1 KiB (1024)"));
        if (values.MaxMessageSize > 0 && values.MaxBackpressure > 0 && (long)values.MaxBackpressure < (long)values.MaxMessageSize + MaxFrameHeaderSize)
            problems.Add(new EndpointProblem(EndpointProblemKind.InconsistentSizes, ArgumentLocation(syntax, "MaxBackpressure") is { } set ? set : At("MaxMessageSize"), Format(values.MaxBackpressure), Format(values.MaxMessageSize), Format((long)values.MaxMessageSize + MaxFrameHeaderSize)));
        if (values.IdleTimeoutSeconds < 0)
            problems.Add(new EndpointProblem(EndpointProblemKind.NegativeIdleTimeout, At("IdleTimeoutSeconds"), Format(values.IdleTimeoutSeconds)));

        var seen = new HashSet<string>(System.StringComparer.Ordinal);
        foreach (var token in values.SubProtocols)
        {
            if (token is null || !IsToken(token))
                problems.Add(new EndpointProblem(EndpointProblemKind.BadSubProtocol, At("SubProtocols"), token ?? "null", "is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~, not empty)"));
            else if (!seen.Add(token))
                problems.Add(new EndpointProblem(EndpointProblemKind.BadSubProtocol, At("SubProtocols"), token, "is listed twice"));
        }
    }

    private static string Format(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>"*", or a path starting with '/' without whitespace, '?' or '#'.</summary>
    public static bool IsValidPath(string? path)
    {
        if (path is null || path.Length == 0)
            return false;
        if (path == "*")
            return true;
        if (path[0] != '/')
            return false;
        foreach (char c in path)
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '?' or '#')
                return false;
        return true;
    }

    /// <summary>An HTTP token (RFC 9110 5.6.2), as the Sec-WebSocket-Protocol header requires.</summary>
    public static bool IsToken(string value)
    {
        if (value.Length == 0)
            return false;
        foreach (char c in value)
        {
            bool ok = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'
                or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';
            if (!ok)
                return false;
        }
        return true;
    }

    /// <summary>The value of the named argument <paramref name="property"/> (or of the path, when null) in the
    /// attribute's syntax.</summary>
    private static Location? ArgumentLocation(AttributeSyntax? syntax, string? property)
    {
        if (syntax?.ArgumentList is not { } list)
            return null;
        foreach (var argument in list.Arguments)
        {
            string? name = argument.NameEquals?.Name.Identifier.ValueText;
            if (property is null ? name is null && (argument.NameColon is null || argument.NameColon.Name.Identifier.ValueText == "path") : name == property)
                return argument.Expression.GetLocation();
        }
        return null;
    }

    private static Location IdentifierLocation(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration && declaration.AttributeLists.Count > 0)
                return declaration.Identifier.GetLocation();
        return type.Locations.Length > 0 ? type.Locations[0] : Location.None;
    }
}

/// <summary>The handler methods, by name.</summary>
internal enum HandlerKind
{
    Open,
    Message,
    Close,
    Error,
    Upgrade,
}

/// <summary>An accepted handler: whether it returns ValueTask, takes the concrete WebSocketConnection, and (for
/// OnMessage) takes an owned WebSocketFrame rather than a borrowed span.</summary>
internal readonly struct HandlerShape(bool returnsValueTask, bool concreteConnection, bool takesFrame)
{
    public bool ReturnsValueTask { get; } = returnsValueTask;
    public bool ConcreteConnection { get; } = concreteConnection;
    public bool TakesFrame { get; } = takesFrame;
}

/// <summary>A broken rule: which, where, and the arguments of its message.</summary>
internal readonly struct EndpointProblem
{
    public EndpointProblem(EndpointProblemKind kind, Location location, params string[] arguments)
    {
        Kind = kind;
        Location = location;
        Arguments = arguments;
    }

    public EndpointProblemKind Kind { get; }
    public Location Location { get; }
    public string[] Arguments { get; }
}

/// <summary>The rules, one per WSG1xx diagnostic (duplicate paths are checked over the whole compilation).</summary>
internal enum EndpointProblemKind
{
    NotPartial,
    BadClassShape,
    NoMessageHandler,
    BadHandler,
    InvalidPath,
    InvalidSize,
    InconsistentSizes,
    NegativeIdleTimeout,
    BadSubProtocol,
}

/// <summary>The attribute's values, with the attribute's defaults where it leaves them out.</summary>
internal sealed class EndpointValues
{
    public string? Path { get; set; }
    public int MaxConnections { get; set; } = 10_000;
    public int MaxMessageSize { get; set; } = 1024 * 1024;
    public int ReceiveBufferSize { get; set; } = 64 * 1024;
    public int MaxBackpressure { get; set; } = 4 * 1024 * 1024;
    public int IdleTimeoutSeconds { get; set; } = 120;
    public bool IdleTimeoutGiven { get; set; }
    public List<string?> SubProtocols { get; } = [];
    public int Compression { get; set; }
    public List<string> Topics { get; } = [];
    public int PublishLimit { get; set; } = DefaultPublishLimit;
    public int SlowSubscribers { get; set; }

    /// <summary>The attribute's PublishLimit by default (1 MiB).</summary>
    public const int DefaultPublishLimit = 1024 * 1024;
}

/// <summary>What <see cref="EndpointChecks.Inspect"/> found: the values and the accepted handlers.</summary>
internal sealed class EndpointFacts(EndpointValues values)
{
    public EndpointValues Values { get; } = values;
    public HandlerShape? OnOpen { get; private set; }
    public HandlerShape? OnMessage { get; private set; }
    public HandlerShape? OnClose { get; private set; }
    public HandlerShape? OnError { get; private set; }
    public HandlerShape? OnUpgrade { get; private set; }

    public HandlerShape? Handler(HandlerKind kind) => kind switch
    {
        HandlerKind.Open => OnOpen,
        HandlerKind.Message => OnMessage,
        HandlerKind.Close => OnClose,
        HandlerKind.Upgrade => OnUpgrade,
        _ => OnError,
    };

    public void SetHandler(HandlerKind kind, HandlerShape shape)
    {
        switch (kind)
        {
            case HandlerKind.Open: OnOpen = shape; break;
            case HandlerKind.Message: OnMessage = shape; break;
            case HandlerKind.Close: OnClose = shape; break;
            case HandlerKind.Upgrade: OnUpgrade = shape; break;
            default: OnError = shape; break;
        }
    }
}
