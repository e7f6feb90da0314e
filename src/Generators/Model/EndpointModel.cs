namespace WsGen.Generators;

/// <summary>One valid <c>[WebSocketEndpoint]</c> class: everything the emitter needs, and nothing from Roslyn.</summary>
/// <param name="Namespace">The class's namespace, or "" for the global namespace.</param>
/// <param name="Name">The class's name.</param>
/// <param name="FullyQualifiedName">The name as the generated code spells it: <c>global::Demo.Echo</c>.</param>
/// <param name="TakenNames">The names of the generated constants (<see cref="EndpointSettings.ConstantNames"/>) that
/// the class already declares or inherits a member of: those constants are left out.</param>
internal sealed record EndpointModel(
    string Namespace,
    string Name,
    string FullyQualifiedName,
    EquatableArray<string> TakenNames,
    EndpointSettings Settings,
    HandlerModel? OnOpen,
    HandlerModel OnMessage,
    HandlerModel? OnClose,
    HandlerModel? OnError);

/// <summary>The attribute's values (the attribute's defaults filled in).</summary>
internal sealed record EndpointSettings(
    string Path,
    int MaxConnections,
    int MaxMessageSize,
    int ReceiveBufferSize,
    int MaxBackpressure,
    int IdleTimeoutSeconds,
    EquatableArray<string> SubProtocols,
    EquatableArray<string> Topics,
    int PublishLimit,
    int SlowSubscribers)
{
    /// <summary>The constants the generator adds to the endpoint class, one per setting.</summary>
    public static readonly string[] ConstantNames =
    [
        "EndpointPath", "MaxConnections", "MaxMessageSize", "ReceiveBufferSize", "MaxBackpressure", "IdleTimeoutSeconds",
    ];
}

/// <summary>An accepted handler method.</summary>
/// <param name="ReturnsValueTask">The method returns ValueTask (observed by the dispatcher) rather than void.</param>
/// <param name="TakesFrame">OnMessage takes an owned WebSocketFrame (built from the endpoint's pool) rather than a
/// borrowed span and opcode.</param>
internal sealed record HandlerModel(bool ReturnsValueTask, bool TakesFrame);
