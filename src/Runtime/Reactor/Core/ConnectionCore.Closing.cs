using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>Closing: graceful close with linger, and the end of a connection.</summary>
internal sealed unsafe partial class ConnectionCore<TBackend>
{
    /// <summary>Closes the connection gracefully (<see cref="INetConn.Close"/>): flushes what waits, then shuts down
    /// the sending side and lingers until the peer's end of stream.</summary>
    internal void Close(LoopConnection<TBackend> conn)
    {
        if (conn.State != LoopConnState.Open)
            return;
        if ((conn.Flags & ConnFlags.Transformed) != 0)
            _transforms[conn].Closing(this, conn);
        if ((conn.Flags & ConnFlags.Gathered) != 0)
            SendGathered(conn);
        if (conn.State != LoopConnState.Open || !_lifecycle.TryBeginClose(conn, Now))
            return;
        conn.PeerClosed |= conn.InputEnded;
        ReleaseHeld(conn);
        if (conn != _corked && conn.Drained)
            BeginLinger(conn);
        else
            UpdateInterest(conn);
    }

    /// <summary>Everything was flushed: shut down the sending side and wait for the peer's end of stream.</summary>
    private void BeginLinger(LoopConnection<TBackend> conn)
    {
        if (conn.PeerClosed || !_backend.ShutdownSend(this, conn))
        {
            Finish(conn);
            return;
        }

        _lifecycle.BeginLinger(conn, Now);
        UpdateInterest(conn);
    }

    /// <summary>Ends the connection now: its socket is closed, waiting bytes are dropped and
    /// <see cref="IConnectionHandler.OnClose"/> is queued. Nothing when it already ended.</summary>
    internal void Finish(LoopConnection<TBackend> conn)
    {
        if (conn.State == LoopConnState.Closed)
            return;
        conn.State = LoopConnState.Closed;
        if (conn == _corked)
            _corkLength = 0;
        _connectionCount--;
        _lifecycle.QueueClose(conn);
        _backend.Close(this, conn);
        ReleaseQueues(conn);
        DropGathered(conn);
        conn.ReadPaused = false;
        if ((conn.Flags & ConnFlags.Transformed) != 0 && _transforms.Remove(conn, out IByteTransform? transform))
        {
            conn.Flags &= ~ConnFlags.Transformed;
            transform.Dispose();
        }
    }

    // ---- the byte transform seam ------------------------------------------------------------------------------

    /// <summary>Puts <paramref name="transform"/> between the socket and the handler of <paramref name="conn"/>
    /// (<see cref="IReactorConn.AttachTransform"/>).</summary>
    internal void AttachTransform(LoopConnection<TBackend> conn, IByteTransform transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        if (conn.State != LoopConnState.Open || (conn.Flags & ConnFlags.Transformed) != 0)
            throw new InvalidOperationException("A transform is attached once, to an open connection.");
        if (_loop.IsOtherThreadWhileRunning)
            throw new InvalidOperationException("Attach a transform on the loop thread.");
        _transforms[conn] = transform;
        conn.Flags |= ConnFlags.Transformed;
    }

    void ITransformHost.Deliver(IReactorConn conn, Span<byte> data)
    {
        var loopConn = (LoopConnection<TBackend>)conn;
        if (loopConn.State == LoopConnState.Open)
            _handler.OnData(loopConn, data);
    }

    bool ITransformHost.SendEncoded(IReactorConn conn, ReadOnlySpan<byte> data)
    {
        var loopConn = (LoopConnection<TBackend>)conn;
        return data.IsEmpty ? loopConn.State == LoopConnState.Open : loopConn.State == LoopConnState.Open && WriteEncoded(loopConn, data) == data.Length;
    }

    /// <summary>Returns the connection's queues to the spares. A backend whose asynchronous send still reads the
    /// waiting queue takes it off the connection first and returns it when the send ends.</summary>
    private void ReleaseQueues(LoopConnection<TBackend> conn)
    {
        ReleaseHeld(conn);
        if (conn.Waiting is { } waiting)
        {
            conn.Waiting = null;
            ReturnQueue(waiting);
        }
    }

    private void ReleaseHeld(LoopConnection<TBackend> conn)
    {
        if (conn.Has(ConnFlags.Holding) && _held.Remove(conn, out SendQueue? held))
            ReturnQueue(held);
        conn.Flags &= ~ConnFlags.Holding;
    }
}
