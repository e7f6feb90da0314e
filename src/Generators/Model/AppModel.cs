namespace WsGen.Generators;

/// <summary>The OS of the build's RuntimeIdentifier. The generated code passes it to the runtime (GeneratedTarget),
/// which picks the loop: the generator names no loop.</summary>
internal enum TargetPlatform
{
    /// <summary>No RuntimeIdentifier (or one not listed below): the loop is chosen at start from the running platform.</summary>
    Any,

    /// <summary><c>linux-*</c>.</summary>
    Linux,

    /// <summary><c>osx-*</c>, <c>freebsd-*</c>: the kqueue platforms.</summary>
    Bsd,

    /// <summary><c>win-*</c>.</summary>
    Windows,
}

/// <summary>Every valid endpoint of the compilation, in dispatch order (endpoint i has index i), and the target.</summary>
/// <param name="Namespace">Where WsGenApp goes: the namespace of the first endpoint, or WsGen.Generated.</param>
internal sealed record AppModel(string Namespace, EquatableArray<EndpointModel> Endpoints, TargetPlatform Platform);
