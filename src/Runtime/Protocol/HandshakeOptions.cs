namespace WsGen.Protocol;

/// <summary>What <see cref="Handshake.Validate"/> applies beyond RFC 6455: limits and the endpoint's hooks.</summary>
internal sealed class HandshakeOptions
{
    /// <summary>Options with the default limits and no hook: any origin, no subprotocol.</summary>
    public static HandshakeOptions Default { get; } = new();

    /// <summary>The limits the request head was parsed with.</summary>
    public HandshakeLimits Limits { get; init; } = HandshakeLimits.Default;

    /// <summary>
    /// The subprotocols the server speaks, in its order of preference: the first one the client offered is chosen,
    /// without allocating (the answer is this list's own string). When none is offered, <see cref="SelectSubProtocol"/>
    /// is asked, if set.
    /// </summary>
    public IReadOnlyList<string>? SupportedSubProtocols { get; init; }

    /// <summary>
    /// Chooses the subprotocol (after <see cref="SupportedSubProtocols"/>). Called only when the client offered at least one, with the offered list in the client's
    /// order; returns one of them, or null for none. Returning a value that was not offered is a server bug: the
    /// validation throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public Func<IReadOnlyList<string>, string?>? SelectSubProtocol { get; init; }

    /// <summary>Checks the Origin header (null when the client sent none); false refuses the handshake with 403.
    /// When null, every origin is accepted. Setting it costs the Origin string per handshake.</summary>
    public Func<string?, bool>? CheckOrigin { get; init; }
}
