namespace WsGen.Generators;

/// <summary>One valid <c>[WebSocketEndpoint]</c> class: everything the emitter needs, and nothing from Roslyn.</summary>
/// <param name="Namespace">The class's namespace, or "" for the global namespace.</param>
/// <param name="Name">The class's name.</param>
/// <param name="FullyQualifiedName">The name as the generated code spells it: <c>global::Demo.Echo</c>.</param>
/// <param name="TakenNames">The names of the generated constants (<see cref="EndpointSettings.ConstantNames"/>) that
/// the class already declares or inherits a member of: those constants are left out.</param>
/// <param name="Services">The types of the constructor's parameters, fully qualified (empty for a parameterless
/// constructor): services the generated code takes from an <c>IServiceProvider</c>.</param>
internal sealed record EndpointModel(
    string Namespace,
    string Name,
    string FullyQualifiedName,
    EquatableArray<string> TakenNames,
    EquatableArray<string> Services,
    EndpointSettings Settings,
    HandlerModel? OnOpen,
    HandlerModel OnMessage,
    HandlerModel? OnClose,
    HandlerModel? OnError,
    HandlerModel? OnUpgrade = null);

/// <summary>The attribute's values (the attribute's defaults filled in); <paramref name="IdleTimeoutGiven"/> when the
/// attribute names IdleTimeoutSeconds (otherwise the server's IdleTimeout, which configuration may set, applies);
/// <c>Compression</c> is the value of the attribute's WebSocketCompression (0 Off, 1 Shared, 2 Dedicated).</summary>
internal sealed record EndpointSettings(
    string Path,
    int MaxConnections,
    int MaxMessageSize,
    int ReceiveBufferSize,
    int MaxBackpressure,
    int IdleTimeoutSeconds,
    bool IdleTimeoutGiven,
    EquatableArray<string> SubProtocols,
    EquatableArray<string> Topics,
    int PublishLimit,
    int SlowSubscribers,
    int Compression = 0)
{
    /// <summary>The constants the generator adds to the endpoint class, one per setting.</summary>
    public static readonly string[] ConstantNames =
    [
        "EndpointPath", "MaxConnections", "MaxMessageSize", "ReceiveBufferSize", "MaxBackpressure", "IdleTimeoutSeconds",
    ];
}

/// <summary>An accepted handler method.</summary>
/// <param name="ReturnsValueTask">The method returns ValueTask (observed by the dispatcher) rather than void; for
/// OnUpgrade, ValueTask of the decision rather than the decision.</param>
/// <param name="TakesFrame">OnMessage takes an owned WebSocketFrame (built from the endpoint's pool) rather than a
/// borrowed span and opcode.</param>
internal sealed record HandlerModel(bool ReturnsValueTask, bool TakesFrame);
