using System.Runtime.InteropServices;
using WsGen.Native;
using static WsGen.Native.IoUringAbi;

namespace WsGen.Reactor;

/// <summary>One connection's operations: the multishot receive, the send in flight, the shutdown and the close.</summary>
internal unsafe partial struct IoUringBackend
{
    public readonly bool Open(ConnectionCore<IoUringBackend> core, LoopConnection<IoUringBackend> conn) => true;

    /// <summary>Arms the multishot receive when the core wants input, and cancels it when it does not.</summary>
    public void UpdateInterest(ConnectionCore<IoUringBackend> core, LoopConnection<IoUringBackend> conn)
    {
        if (_stopping)
            return;
        bool wanted = ConnectionCore<IoUringBackend>.WantsInput(conn);
        bool armed = conn.Has(ConnFlags.ReceivePending);
        if (wanted && !armed)
        {
            _ring.PrepareReceiveMultishot(conn.Handle, conn.Has(ConnFlags.Direct), BufferGroup, Tag(Op.Recv, Key(conn)));
            conn.Flags |= ConnFlags.ReceivePending;
            conn.Ops++;
            _inFlight++;
        }
        else if (!wanted && armed && !conn.Has(ConnFlags.ReceiveCancelling))
        {
            CancelReceive(conn);
        }
    }

    /// <summary>Input arrives through completions only: a read on the connection finds nothing.</summary>
    public readonly int Receive(LoopConnection<IoUringBackend> conn, byte* buffer, int length) => IoResult.WouldBlock;

    /// <summary>Copies up to a send buffer of <paramref name="data"/> into the connection's send and submits it;
    /// nothing while a send is in flight.</summary>
    public int Send(ConnectionCore<IoUringBackend> core, LoopConnection<IoUringBackend> conn, byte* data, int length)
    {
        if (conn.SendBusy)
            return 0;
        int n = Math.Min(length, _sendBufferSize);
        bool small = n <= SmallSendSize;
        byte* buffer = small ? _smallSendBuffers.Rent() : RentSendBuffer();
        new ReadOnlySpan<byte>(data, n).CopyTo(new Span<byte>(buffer, n));
        StartSend(conn, buffer, n, small);
        return n;
    }

    /// <summary>A few hundred bytes are copied to a small buffer; more make the cork buffer itself the send's buffer,
    /// and the core gets a fresh cork.</summary>
    public int SendCork(ConnectionCore<IoUringBackend> core, LoopConnection<IoUringBackend> conn, ref byte* cork, int length)
    {
        if (length <= SmallSendSize)
            return Send(core, conn, cork, length);
        if (conn.SendBusy)
            return 0;
        byte* buffer = cork;
        cork = RentSendBuffer();
        StartSend(conn, buffer, length, small: false);
        return length;
    }

    private void StartSend(LoopConnection<IoUringBackend> conn, byte* buffer, int length, bool small)
    {
        IoUringSend send = _spareSends.Count > 0 ? _spareSends.Pop() : new IoUringSend();
        send.Buffer = buffer;
        send.Small = small;
        send.Offset = 0;
        send.Length = length;
        _sends[conn.Slot] = send;
        conn.SendBusy = true;
        SubmitSend(conn, send);
    }

    /// <summary>The bytes of the send in flight that the kernel has not taken yet.</summary>
    public readonly int InFlightBytes(LoopConnection<IoUringBackend> conn)
        => conn.SendBusy && _sends[conn.Slot] is { } send ? send.Length - send.Offset : 0;

    private void SubmitSend(LoopConnection<IoUringBackend> conn, IoUringSend send)
    {
        _ring.PrepareSend(conn.Handle, conn.Has(ConnFlags.Direct), send.Buffer + send.Offset, send.Length - send.Offset, Tag(Op.Send, Key(conn)));
        conn.Ops++;
        _inFlight++;
    }

    /// <summary>Shuts down the sending side: at once for a plain descriptor, through the ring for a direct one (a
    /// failure then finishes a lingering connection when it completes).</summary>
    public bool ShutdownSend(ConnectionCore<IoUringBackend> core, LoopConnection<IoUringBackend> conn)
    {
        if (!conn.Has(ConnFlags.Direct))
            return Libc.shutdown(conn.Handle, Libc.SHUT_WR) == 0;
        _ring.PrepareShutdownDirect(conn.Handle, Tag(Op.Shutdown, Key(conn)));
        conn.Flags |= ConnFlags.ShutdownPending;
        conn.Ops++;
        _inFlight++;
        return true;
    }

    /// <summary>Closes the descriptor and cancels the connection's operations. The kernel keeps the socket open
    /// until the cancelled operations completed. A shutdown still in flight looks the direct descriptor up only when
    /// it runs: the slot is freed once it completed (<see cref="OnShutdown"/>), so that it cannot hit a socket
    /// accepted into the same slot meanwhile.</summary>
    public void Close(ConnectionCore<IoUringBackend> core, LoopConnection<IoUringBackend> conn)
    {
        if (conn.Has(ConnFlags.ReceivePending) && !conn.Has(ConnFlags.ReceiveCancelling))
            CancelReceive(conn);
        if (conn.SendBusy)
        {
            _ring.PrepareCancel(Tag(Op.Send, Key(conn)), Tag(Op.Cancel, 0));
            _inFlight++;
        }
        else
        {
            ReturnSend(conn);
        }

        bool shutdownPending = conn.Has(ConnFlags.ShutdownPending);
        if (!conn.Has(ConnFlags.Direct))
            Libc.close(conn.Handle);
        else if (!shutdownPending)
            CloseDirect(conn.Handle);
        if (!shutdownPending)
            conn.Handle = -1;
        if (conn.Ops == 0)
            ReleaseSlot(core, conn);
    }

    /// <summary>At dispose, after the loop stopped: plain descriptors are closed, direct ones go with the ring, and
    /// send buffers are freed once the ring is closed.</summary>
    public void CloseAtDispose(LoopConnection<IoUringBackend> conn)
    {
        if (conn.Handle >= 0 && !conn.Has(ConnFlags.Direct))
            Libc.close(conn.Handle);
        conn.Handle = -1;
        if (_sends[conn.Slot] is { Small: false } send)
            _buffersToFree.Add((nint)send.Buffer);
        _sends[conn.Slot] = null;
    }

    // ---- completions ----------------------------------------------------------------------------------------

    private void OnReceived(ConnectionCore<IoUringBackend> core, in IoUringCqe cqe, bool more)
    {
        bool hasBuffer = (cqe.Flags & IORING_CQE_F_BUFFER) != 0;
        ushort bufferId = (ushort)(cqe.Flags >> IORING_CQE_BUFFER_SHIFT);
        LoopConnection<IoUringBackend>? conn = Find(core, cqe.UserData);
        if (conn is null)
        {
            if (hasBuffer)
                _receiveBuffers.Recycle(bufferId);
            return;
        }

        if (!more)
        {
            conn.Flags &= ~(ConnFlags.ReceivePending | ConnFlags.ReceiveCancelling);
            conn.Ops--;
        }

        int result = cqe.Result;
        if (result > 0 && hasBuffer)
        {
            core.Received(conn, _receiveBuffers.Get(bufferId, result));
            _receiveBuffers.Recycle(bufferId);
        }
        else
        {
            if (hasBuffer)
                _receiveBuffers.Recycle(bufferId);
            if (result == 0)
                core.InputEnded(conn);
            else if (result != -Errno.ENOBUFS && result != -ECANCELED && result != -Errno.EAGAIN)
                core.Finish(conn);
        }

        if (conn.State == LoopConnState.Closed)
        {
            if (conn.Ops == 0)
                ReleaseSlot(core, conn);
        }
        else if (!conn.Has(ConnFlags.ReceivePending))
        {
            UpdateInterest(core, conn);
        }
    }

    private void OnSent(ConnectionCore<IoUringBackend> core, in IoUringCqe cqe)
    {
        LoopConnection<IoUringBackend>? conn = Find(core, cqe.UserData);
        if (conn is null)
            return;
        conn.Ops--;
        if (conn.State == LoopConnState.Closed)
        {
            ReturnSend(conn);
            if (conn.Ops == 0)
                ReleaseSlot(core, conn);
            return;
        }

        IoUringSend send = _sends[conn.Slot]!;
        int result = cqe.Result;
        if (result < 0)
        {
            if (result == -Errno.EAGAIN || result == -Errno.EINTR)
                SubmitSend(conn, send);
            else
                core.Finish(conn);
            return;
        }

        send.Offset += result;
        if (send.Offset < send.Length)
        {
            SubmitSend(conn, send);
            return;
        }

        ReturnSend(conn);
        core.SendCompleted(conn);
    }

    /// <summary>A direct descriptor's SHUT_WR completed: a connection that was finished meanwhile frees its slot
    /// now, and a lingering one whose shutdown failed (the peer is gone) closes.</summary>
    private void OnShutdown(ConnectionCore<IoUringBackend> core, in IoUringCqe cqe)
    {
        LoopConnection<IoUringBackend>? conn = Find(core, cqe.UserData);
        if (conn is null)
            return;
        conn.Flags &= ~ConnFlags.ShutdownPending;
        conn.Ops--;
        if (conn.State == LoopConnState.Closed)
        {
            CloseDirect(conn.Handle);
            conn.Handle = -1;
            if (conn.Ops == 0)
                ReleaseSlot(core, conn);
        }
        else if (cqe.Result < 0 && conn.State == LoopConnState.Lingering)
        {
            core.Finish(conn);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    private void CancelReceive(LoopConnection<IoUringBackend> conn)
    {
        _ring.PrepareCancel(Tag(Op.Recv, Key(conn)), Tag(Op.Cancel, 0));
        _inFlight++;
        conn.Flags |= ConnFlags.ReceiveCancelling;
    }

    private void CloseDirect(int index)
    {
        _ring.PrepareCloseDirect(index, Tag(Op.Close, 0));
        _inFlight++;
    }

    private void ReleaseSlot(ConnectionCore<IoUringBackend> core, LoopConnection<IoUringBackend> conn)
    {
        if (core.Lookup(conn.Slot) != conn)
            return;
        core.ReleaseSlot(conn);
        _slots.Return(conn.Slot);
    }

    private byte* RentSendBuffer()
        => _spareSendBuffers.TryPop(out nint buffer) ? (byte*)buffer : (byte*)NativeMemory.Alloc((nuint)_sendBufferSize);

    /// <summary>Ends the connection's send: its buffer and the send itself go back to the loop's pools.</summary>
    private void ReturnSend(LoopConnection<IoUringBackend> conn)
    {
        conn.SendBusy = false;
        if (_sends[conn.Slot] is not { } send)
            return;
        _sends[conn.Slot] = null;
        if (send.Small)
            _smallSendBuffers.Return(send.Buffer);
        else if (_spareSendBuffers.Count < MaxSpareSendBuffers)
            _spareSendBuffers.Push((nint)send.Buffer);
        else
            NativeMemory.Free(send.Buffer);
        send.Buffer = null;
        _spareSends.Push(send);
    }
}

/// <summary>A connection's send in flight: its buffer (small or a whole send buffer) and how far the kernel got.
/// Pooled by the loop; only a sending connection holds one.</summary>
internal sealed unsafe class IoUringSend
{
    internal byte* Buffer;

    internal int Offset;

    internal int Length;

    internal bool Small;
}
