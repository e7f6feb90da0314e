namespace WsGen.Generators;

/// <summary>The loops a build may run, from its RuntimeIdentifier.</summary>
internal enum TargetPlatform
{
    /// <summary>No RuntimeIdentifier (or one not listed below): every loop, chosen at start.</summary>
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
