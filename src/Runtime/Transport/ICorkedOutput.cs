namespace WsGen.Transport;

/// <summary>
/// A reactor connection whose loop lets the layer above build outgoing bytes in place, in the loop's cork buffer,
/// instead of handing a finished span to <see cref="INetConn.Write"/> (which copies it there). The server writes
/// its frames this way: header and payload go into the cork with one copy of the payload and no interim buffer.
/// </summary>
internal interface ICorkedOutput
{
    /// <summary>
    /// Appends <paramref name="length"/> bytes to the loop's output for this connection and returns them for the
    /// caller to fill before it returns to the loop, or returns an empty span when they cannot go there now: off the
    /// loop thread, outside a callback for this connection, on a connection that is not open or has bytes waiting, or
    /// when the cork lacks room. The caller then falls back to <see cref="INetConn.Write"/>, which handles every one
    /// of those cases. Nothing is written or reserved when the span is empty.
    /// </summary>
    Span<byte> TakeCorked(int length);
}
