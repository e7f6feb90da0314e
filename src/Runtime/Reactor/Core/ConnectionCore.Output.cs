using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>Output: the cork, sends, the waiting queue and backpressure.</summary>
internal sealed unsafe partial class ConnectionCore<TBackend>
{
    /// <summary>Writes on the connection (<see cref="INetConn.Write"/>): into the cork during a callback for it,
    /// otherwise to the socket, keeping what it does not take. Returns the length, or 0 when the connection is not
    /// open or was aborted because the waiting bytes would exceed <see cref="ReactorOptions.MaxBackpressure"/>.</summary>
    internal int Write(LoopConnection<TBackend> conn, ReadOnlySpan<byte> data)
    {
        if (conn.State != LoopConnState.Open || data.IsEmpty)
            return 0;
        if (_loop.IsOtherThreadWhileRunning)
            throw new InvalidOperationException("Write on the loop thread (use IEventLoop.Post).");
        if ((conn.Flags & ConnFlags.Transformed) != 0)
            return _transforms[conn].Write(this, conn, data) && conn.State == LoopConnState.Open ? data.Length : 0;
        return WriteEncoded(conn, data);
    }

    /// <summary>The bytes of <see cref="Write"/> as they go to the socket: into the cork during a callback for the
    /// connection, otherwise gathered until the end of the loop's turn (see <see cref="Gather"/>), or staged behind
    /// what waits when the loop does not run or the bytes are many.</summary>
    private int WriteEncoded(LoopConnection<TBackend> conn, ReadOnlySpan<byte> data)
    {
        if (conn == _corked)
        {
            if (data.Length <= _corkSize - _corkLength)
            {
                data.CopyTo(new Span<byte>(_cork + _corkLength, data.Length));
                _corkLength += data.Length;
                return data.Length;
            }

            FlushCork(conn);
            if (conn.State != LoopConnState.Open)
                return 0;
            if (data.Length <= _corkSize)
            {
                data.CopyTo(new Span<byte>(_cork, data.Length));
                _corkLength = data.Length;
                return data.Length;
            }
        }

        if (data.Length <= GatherLimit && _loop.LoopThreadId != 0)
            return Gather(conn, data) ? data.Length : 0;
        if ((conn.Flags & ConnFlags.Gathered) != 0)
        {
            SendGathered(conn);
            if (conn.State != LoopConnState.Open)
                return 0;
        }

        return Stage(conn, data) ? data.Length : 0;
    }

    /// <summary>The next <paramref name="length"/> bytes of the cork, taken for <paramref name="conn"/> to fill, or an
    /// empty span when <see cref="Write"/> must handle the bytes instead (see <see cref="ICorkedOutput.TakeCorked"/>).
    /// Bytes waiting from before are no obstacle: the cork goes out behind them. A transformed connection's bytes
    /// must pass its transform: they take <see cref="Write"/>.</summary>
    internal Span<byte> TakeCorked(LoopConnection<TBackend> conn, int length)
    {
        int used = _corkLength;
        if (conn != _corked || conn.State != LoopConnState.Open || (conn.Flags & ConnFlags.Transformed) != 0 || (uint)length > (uint)(_corkSize - used)
            || Environment.CurrentManagedThreadId != _loop.LoopThreadId && _loop.LoopThreadId != 0)
            return default;
        _corkLength = used + length;
        return new Span<byte>(_cork + used, length);
    }

    /// <summary>Puts <paramref name="data"/> behind every byte already accepted for <paramref name="conn"/>: to the
    /// socket when nothing waits, the rest into the waiting queue. False when the connection ended.</summary>
    private bool Stage(LoopConnection<TBackend> conn, ReadOnlySpan<byte> data)
    {
        if (!conn.Drained)
            return Enqueue(conn, data);
        int sent;
        fixed (byte* p = data)
            sent = _backend.Send(this, conn, p, data.Length);
        if (sent < 0)
        {
            Finish(conn);
            return false;
        }

        if (sent < data.Length)
            return Enqueue(conn, data[sent..]);
        CheckPause(conn);
        return true;
    }

    /// <summary>Keeps bytes the socket did not take. Returns false when that would exceed
    /// <see cref="ReactorOptions.MaxBackpressure"/>: the connection is then aborted.</summary>
    private bool Enqueue(LoopConnection<TBackend> conn, ReadOnlySpan<byte> data)
    {
        if (WaitingBytes(conn) + data.Length > Options.MaxBackpressure)
        {
            Overflow(conn);
            return false;
        }

        (conn.Waiting ??= RentQueue()).Append(data);
        if (WaitingBytes(conn) > Options.PauseReadingThreshold)
            conn.ReadPaused = true;
        _backend.UpdateInterest(this, conn);
        return true;
    }

    /// <summary>Bytes accepted for <paramref name="conn"/> that the socket has not taken yet: those waiting, those
    /// an asynchronous send of the backend has in flight, and those gathered for the end of the turn.</summary>
    internal long WaitingBytes(LoopConnection<TBackend> conn) => (conn.Waiting?.Length ?? 0) + _backend.InFlightBytes(conn) + GatheredBytes(conn);

    /// <summary>Pauses reading while more than <see cref="ReactorOptions.PauseReadingThreshold"/> bytes wait.</summary>
    private void CheckPause(LoopConnection<TBackend> conn)
    {
        if (!conn.ReadPaused && WaitingBytes(conn) > Options.PauseReadingThreshold)
        {
            conn.ReadPaused = true;
            _backend.UpdateInterest(this, conn);
        }
    }

    /// <summary>Sends what the cork holds for <paramref name="conn"/>, behind what already waits (what it gathered
    /// before its callback included).</summary>
    private void FlushCork(LoopConnection<TBackend> conn)
    {
        int length = _corkLength;
        if (length != 0 && conn.State != LoopConnState.Closed && (conn.Flags & ConnFlags.Gathered) != 0)
            SendGathered(conn);     // with the cork's bytes still counted, so that it joins them after them
        _corkLength = 0;
        if (length == 0 || conn.State == LoopConnState.Closed)
            return;
        SendCork(conn, length);
    }

    /// <summary>Sends the first <paramref name="length"/> bytes of the cork to <paramref name="conn"/>, behind what
    /// already waits.</summary>
    private void SendCork(LoopConnection<TBackend> conn, int length)
    {
        if (!conn.Drained)
        {
            Enqueue(conn, new ReadOnlySpan<byte>(_cork, length));
            return;
        }

        int sent = _backend.SendCork(this, conn, ref _cork, length);
        if (sent < 0)
            Finish(conn);
        else if (sent < length)
            Enqueue(conn, new ReadOnlySpan<byte>(_cork + sent, length - sent));
        else
            CheckPause(conn);
    }

    /// <summary>Ends the corked section of a callback for <paramref name="conn"/>: flushes the cork, and continues
    /// a graceful close that was waiting for it.</summary>
    private void Uncork(LoopConnection<TBackend> conn)
    {
        FlushCork(conn);
        _corked = null;
        if (conn.State == LoopConnState.Closing && conn.Drained)
            BeginLinger(conn);
    }

    /// <summary>A readiness backend reports the socket writable: sends what waits.</summary>
    internal void Writable(LoopConnection<TBackend> conn)
    {
        if (conn.State == LoopConnState.Closed)
            return;
        if (conn.Waiting is null)
            UpdateInterest(conn);
        else
            Drain(conn);
    }

    /// <summary>An asynchronous send of the first <paramref name="sent"/> waiting bytes completed (backends that
    /// send from the queue): they leave the queue, and the rest follows.</summary>
    internal void QueueSent(LoopConnection<TBackend> conn, int sent)
    {
        conn.SendBusy = false;
        if (conn.State == LoopConnState.Closed || conn.Waiting is not { } queue)
            return;
        queue.Consume((int)Math.Min(sent, queue.Length));
        Drain(conn);
    }

    /// <summary>The send a completion backend had in flight completed, every byte of it: what waits goes next, or,
    /// with nothing left, a graceful close continues.</summary>
    internal void SendCompleted(LoopConnection<TBackend> conn)
    {
        if (conn.State == LoopConnState.Closed)
            return;
        if (conn.Waiting is null)
            AllSent(conn, hadWaited: false);
        else
            Drain(conn);
    }

    /// <summary>Hands waiting bytes to the socket while it takes them; once none wait, <see cref="AllSent"/>.</summary>
    private void Drain(LoopConnection<TBackend> conn)
    {
        SendQueue queue = conn.Waiting!;
        while (!queue.IsEmpty && !conn.SendBusy)
        {
            ReadOnlySpan<byte> first = queue.First;
            int sent;
            fixed (byte* p = first)
                sent = _backend.Send(this, conn, p, first.Length);
            if (sent < 0)
            {
                Finish(conn);
                return;
            }

            queue.Consume(sent);
            if (sent < first.Length)
                break;
        }

        if (!queue.IsEmpty || conn.SendBusy)
        {
            UpdateInterest(conn);
            return;
        }

        conn.Waiting = null;
        ReturnQueue(queue);
        AllSent(conn, hadWaited: true);
    }

    /// <summary>Every byte accepted went to the socket: reading resumes (held input first), a graceful close goes
    /// on, and a connection whose bytes had to wait gets <see cref="IConnectionHandler.OnWritable"/>.</summary>
    private void AllSent(LoopConnection<TBackend> conn, bool hadWaited)
    {
        bool wasPaused = conn.ReadPaused;
        conn.ReadPaused = false;
        if (conn.State == LoopConnState.Closing)
        {
            BeginLinger(conn);
            return;
        }

        if (conn.State != LoopConnState.Open)
            return;
        if (hadWaited)
        {
            _corked = conn;
            _handler.OnWritable(conn);
            Uncork(conn);
        }

        if (wasPaused)
            DeliverHeld(conn);
        UpdateInterest(conn);
    }
}
