namespace WsGen.Transport;

/// <summary>
/// A transform of a connection's bytes between the socket and the protocol, such as TLS: the seam of the connection
/// core (<see cref="IReactorConn.AttachTransform"/>). A connection without one pays a flag test per read and per
/// write, and nothing while idle.
/// </summary>
/// <remarks>Every call runs on the loop thread. The transform holds its own buffers; the core holds none for it.
/// <see cref="Dispose"/> may come while <see cref="Received"/> or <see cref="Write"/> runs (the handler aborted the
/// connection from a callback): the transform's calls to its host after that find the connection closed.</remarks>
internal interface IByteTransform
{
    /// <summary>Bytes arrived from the socket (valid during the call). The transform hands what it decoded to the
    /// handler with <see cref="ITransformHost.Deliver"/>, and may send bytes of its own (a handshake, an alert) with
    /// <see cref="ITransformHost.SendEncoded"/>. Writes the handler makes meanwhile are corked, as on a plain
    /// connection.</summary>
    void Received(ITransformHost host, IReactorConn conn, Span<byte> data);

    /// <summary>The handler wrote <paramref name="data"/>: the transform sends its encoding with
    /// <see cref="ITransformHost.SendEncoded"/> (now or later). False when the connection cannot take it; the core
    /// then reports 0 to the handler.</summary>
    bool Write(ITransformHost host, IReactorConn conn, ReadOnlySpan<byte> data);

    /// <summary>The handler closes the connection gracefully: the last bytes the transform sends (TLS close_notify)
    /// go out before the sending side is shut down.</summary>
    void Closing(ITransformHost host, IReactorConn conn);

    /// <summary>The connection ended: releases the transform's buffers.</summary>
    void Dispose();
}

/// <summary>What the connection core offers a <see cref="IByteTransform"/>.</summary>
internal interface ITransformHost
{
    /// <summary>Hands decoded bytes to the handler's <see cref="IConnectionHandler.OnData"/>.</summary>
    void Deliver(IReactorConn conn, Span<byte> data);

    /// <summary>Sends encoded bytes to the socket, behind every byte sent before (corked, backpressured). False when
    /// the connection is not open or was aborted.</summary>
    bool SendEncoded(IReactorConn conn, ReadOnlySpan<byte> data);
}
