using WsGen.Native;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>Input: readiness events, bytes a completion backend received, held input and the peer's end of stream.</summary>
internal sealed unsafe partial class ConnectionCore<TBackend>
{
    /// <summary>Reads on the connection (<see cref="INetConn.Read"/>): one receive straight from the socket, for
    /// backends that can; <see cref="NetConn.WouldBlock"/> for the others.</summary>
    internal int Read(LoopConnection<TBackend> conn, Span<byte> buffer)
    {
        if (conn.State != LoopConnState.Open)
            return 0;
        int n;
        fixed (byte* p = buffer)
            n = _backend.Receive(conn, p, buffer.Length);
        return n >= 0 ? n : n == IoResult.WouldBlock ? NetConn.WouldBlock : 0;
    }

    /// <summary>A readiness backend reports the socket readable, or (with <paramref name="hangUp"/>) an error or a
    /// hang-up: reads it into the loop's buffer and hands the bytes over, or discards input while closing.</summary>
    internal void Readable(LoopConnection<TBackend> conn, bool hangUp)
    {
        switch (conn.State)
        {
            case LoopConnState.Closed:
                return;
            case LoopConnState.Open when conn.ReadPaused:
                // Only a hang-up or an error is reported while reading is paused: the peer is gone.
                if (hangUp)
                    Finish(conn);
                return;
            case LoopConnState.Open:
                ReadInput(conn);
                break;
            default:
                // A hang-up after the peer's end of stream was seen would be reported again and again: give up.
                if (conn.PeerClosed && hangUp)
                    Finish(conn);
                else
                    Discard(conn);
                break;
        }

        UpdateInterest(conn);
    }

    private void ReadInput(LoopConnection<TBackend> conn)
    {
        int size = _receiveSize;
        for (int reads = 0; reads < MaxReadsPerEvent; reads++)
        {
            int n = _backend.Receive(conn, _receiveBuffer, size);
            if (n > 0)
            {
                Deliver(conn, new Span<byte>(_receiveBuffer, n));
                if (n < size || conn.State != LoopConnState.Open || conn.ReadPaused)
                    return;
                continue;
            }

            if (n == IoResult.WouldBlock)
                return;

            // End of stream, or a connection error (reset, timeout ...).
            Finish(conn);
            return;
        }
    }

    /// <summary>Reads and drops input of a closing connection, until the peer's end of stream.</summary>
    private void Discard(LoopConnection<TBackend> conn)
    {
        for (int reads = 0; reads < MaxReadsPerEvent * 4; reads++)
        {
            int n = _backend.Receive(conn, _receiveBuffer, _receiveSize);
            if (n > 0)
                continue;
            if (n == IoResult.Failed)
                Finish(conn);
            else if (n == 0)
                InputEnded(conn);
            return;
        }
    }

    /// <summary>A completion backend received <paramref name="data"/> (in its own buffer, valid during the call):
    /// hands it over, holds it while reading is paused, or drops it while closing.</summary>
    internal void Received(LoopConnection<TBackend> conn, Span<byte> data)
    {
        if (conn.State != LoopConnState.Open)
            return;
        if ((conn.Flags & (ConnFlags.ReadPaused | ConnFlags.Holding)) != 0)
        {
            Hold(conn, data);
            return;
        }

        Deliver(conn, data);
    }

    /// <summary>The peer's end of stream: closes an open connection (once held input was delivered), completes a
    /// lingering close, and stops reading a connection that is still flushing.</summary>
    internal void InputEnded(LoopConnection<TBackend> conn)
    {
        switch (conn.State)
        {
            case LoopConnState.Open when (conn.Flags & (ConnFlags.ReadPaused | ConnFlags.Holding)) != 0:
                conn.InputEnded = true;
                break;
            case LoopConnState.Open:
            case LoopConnState.Lingering:
                Finish(conn);
                return;
            case LoopConnState.Closing:
                conn.PeerClosed = true;
                break;
            default:
                return;
        }

        UpdateInterest(conn);
    }

    /// <summary>Calls <see cref="IConnectionHandler.OnData"/> (through the connection's transform, if it has one) with
    /// the connection's writes corked.</summary>
    private void Deliver(LoopConnection<TBackend> conn, Span<byte> data)
    {
        _corked = conn;
        if ((conn.Flags & ConnFlags.Transformed) == 0)
            _handler.OnData(conn, data);
        else
            _transforms[conn].Received(this, conn, data);
        Uncork(conn);
    }

    /// <summary>Keeps input that arrived after reading was paused, to hand it over when reading resumes. Held input
    /// is rare (a completion backend's receive was already under way), so it waits in a table of the loop rather than
    /// in a field every connection would carry.</summary>
    private void Hold(LoopConnection<TBackend> conn, ReadOnlySpan<byte> data)
    {
        if (!conn.Has(ConnFlags.Holding))
        {
            _held[conn] = RentQueue();
            conn.Flags |= ConnFlags.Holding;
        }

        SendQueue held = _held[conn];
        if (held.Length + data.Length > Options.MaxBackpressure)
        {
            Overflow(conn);
            return;
        }

        held.Append(data);
        UpdateInterest(conn);
    }

    /// <summary>Delivers held input after reading resumed, as long as the connection does not pause again.</summary>
    private void DeliverHeld(LoopConnection<TBackend> conn)
    {
        while (conn.State == LoopConnState.Open && !conn.ReadPaused && conn.Has(ConnFlags.Holding))
        {
            SendQueue held = _held[conn];
            if (held.IsEmpty)
            {
                ReleaseHeld(conn);
                break;
            }

            ReadOnlySpan<byte> first = held.First;
            int n = Math.Min(first.Length, _receiveSize);
            first[..n].CopyTo(new Span<byte>(_receiveBuffer, n));
            held.Consume(n);
            Deliver(conn, new Span<byte>(_receiveBuffer, n));
        }

        if (conn.State == LoopConnState.Open && !conn.ReadPaused && !conn.Has(ConnFlags.Holding) && conn.InputEnded)
            Finish(conn);
    }
}
