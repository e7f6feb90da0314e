using System.Net;
using WsGen.Native;
using WsGen.Transport;
using static WsGen.Native.IoUringAbi;

namespace WsGen.Reactor;

/// <summary>
/// Listening and accepting. Accepted sockets are direct descriptors: they live in the ring's registered file table,
/// not in the process's descriptor table, so operations on them skip the descriptor lookup and a loop holds up to
/// <see cref="IoUringReactor.MaxDirectDescriptors"/> connections whatever the process's descriptor limit is. The
/// kernel accepts a connection before it looks for a free slot, and drops it when there is none: so once few slots
/// are free, the loop accepts one connection at a time, and with no slot free it stops accepting until a connection
/// closes; connections meanwhile wait in the listen backlog. Socket options (TCP_NODELAY, buffer sizes) are set on
/// the listener, which accepted sockets inherit. Connections handed over with <see cref="IReactor.Register"/> keep
/// their plain descriptor.
/// </summary>
internal unsafe partial struct IoUringBackend
{
    /// <summary>With fewer free direct descriptor slots than this (or than half the table), accepts take one
    /// connection each.</summary>
    private const int SingleAcceptReserve = 128;

    /// <summary>Slots in the ring's direct descriptor table; 0 when accepted sockets are plain descriptors.</summary>
    internal readonly int DirectDescriptorSlots => _directSlots;

    /// <summary>True while accepting waits for a free slot of the full direct descriptor table, with no accept armed
    /// (so the kernel accepts nothing meanwhile). Read on the loop thread; for tests.</summary>
    internal readonly bool AcceptWaitsForSlot => _acceptWaitsForSlot;

    /// <summary>Free slots of the direct descriptor table below which accepts take one connection each, so that a
    /// burst of connections cannot be accepted into a full table (the kernel would drop them).</summary>
    private readonly int SingleAcceptBelow => Math.Min(SingleAcceptReserve, _directSlots / 2);

    /// <summary>Free direct descriptor slots, less those that armed one-connection accepts may take.</summary>
    private readonly int FreeDirectSlots => _directSlots - _directInUse - _singleAcceptsArmed;

    public IPEndPoint Listen(ConnectionCore<IoUringBackend> core, IPEndPoint endPoint)
    {
        var listener = new SocketListener(endPoint, _options.Backlog, _options.ReusePort);
        SetSocketOptions(listener.Fd);
        lock (_listeners)
            _listeners.Add(new ListenerEntry(listener));
        if (core.IsLoopThread)
            ArmListeners(core);
        else if (core.IsRunning)
            core.Post(static state => ArmListenersOf((ConnectionCore<IoUringBackend>)state!), core);
        return listener.LocalEndPoint;
    }

    private static void ArmListenersOf(ConnectionCore<IoUringBackend> core) => core.Backend.ArmListeners(core);

    public readonly bool TryAccept(int listener, out int handle)
    {
        handle = -1;
        return false;
    }

    public readonly int SlotFor(int handle) => _slots.Take();

    public void SetAccepting(ConnectionCore<IoUringBackend> core, bool accepting)
    {
        // A paused accept is simply not armed again until the pause ends.
        if (accepting)
            ArmListeners(core);
    }

    public void CloseListeners()
    {
        lock (_listeners)
        {
            for (int i = 0; i < _listeners.Count; i++)
            {
                ListenerEntry entry = _listeners[i];
                if (entry.Armed && !_stopping && Environment.CurrentManagedThreadId == entry.ArmedBy)
                {
                    _ring.PrepareCancel(Tag(Op.Accept, (uint)i), Tag(Op.Cancel, 0));
                    _inFlight++;
                }

                entry.Listener.Dispose();
            }
        }
    }

    public readonly object TakeOver(INetConn conn)
    {
        if (conn is not SocketConn)
            throw new NotSupportedException($"IoUringReactor registers socket descriptors ({nameof(SocketConn)}), not {conn.GetType().Name}.");
        return conn;
    }

    public void AddTakenOver(ConnectionCore<IoUringBackend> core, object state)
    {
        int fd = ((SocketConn)state).Detach();
        SetSocketOptions(fd);
        AddConnection(core, fd, direct: false, listener: -1);
    }

    public readonly void DropTakenOver(object state) => ((SocketConn)state).Close();

    /// <summary>Arms an accept on every open listener that has none: multishot while the direct descriptor table
    /// has room to spare, one connection at a time when few slots are free, none when the table is full.</summary>
    private void ArmListeners(ConnectionCore<IoUringBackend> core)
    {
        core.ClearAcceptPause();
        if (core.ShuttingDown || _stopping)
            return;
        lock (_listeners)
        {
            for (int i = 0; i < _listeners.Count; i++)
            {
                ListenerEntry entry = _listeners[i];
                if (entry.Armed || entry.Listener.Fd < 0)
                    continue;
                bool single = false;
                if (_directSlots > 0)
                {
                    int free = FreeDirectSlots;
                    if (free <= 0)
                    {
                        _acceptWaitsForSlot = true;
                        return;
                    }

                    single = free <= SingleAcceptBelow;
                }

                _ring.PrepareAccept(entry.Listener.Fd, _directSlots > 0, !single, Tag(Op.Accept, (uint)i));
                entry.Armed = true;
                entry.ArmedBy = Environment.CurrentManagedThreadId;
                entry.Single = single;
                entry.Cancelling = false;
                if (single)
                    _singleAcceptsArmed++;
                _inFlight++;
            }
        }
    }

    private void OnAccepted(ConnectionCore<IoUringBackend> core, in IoUringCqe cqe, bool more)
    {
        ListenerEntry entry;
        lock (_listeners)
            entry = _listeners[(int)(uint)cqe.UserData];
        if (!more)
        {
            entry.Armed = false;
            if (entry.Single)
                _singleAcceptsArmed--;
        }

        int result = cqe.Result;
        if (result >= 0)
        {
            bool direct = _directSlots > 0;
            if (direct)
            {
                _directInUse++;
                // A multishot accept would go on taking connections while the table fills: it gives way to
                // one-connection accepts (armed again when its cancellation completes).
                if (more && !entry.Cancelling && FreeDirectSlots <= SingleAcceptBelow)
                {
                    _ring.PrepareCancel(Tag(Op.Accept, (uint)cqe.UserData), Tag(Op.Cancel, 0));
                    _inFlight++;
                    entry.Cancelling = true;
                }
            }

            if (!core.ShuttingDown && !_stopping)
                AddConnection(core, result, direct, (int)(uint)cqe.UserData);
            else if (direct)
                CloseDirect(result);
            else
                Libc.close(result);
        }
        else if (!more && result is -Errno.EMFILE or -Errno.ENFILE or -Errno.ENOMEM or -Errno.ENOBUFS)
        {
            // Out of descriptors or memory: the pending connections wait in the backlog for a moment.
            core.PauseAccepting();
            return;
        }

        if (!entry.Armed && !core.AcceptPaused)
            ArmListeners(core);
    }

    /// <summary>A slot of the direct descriptor table is free again: accepting resumes if it waited for one.</summary>
    private void OnDirectClosed(ConnectionCore<IoUringBackend> core)
    {
        _directInUse--;
        if (_acceptWaitsForSlot && !core.AcceptPaused)
        {
            _acceptWaitsForSlot = false;
            ArmListeners(core);
        }
    }

    private void AddConnection(ConnectionCore<IoUringBackend> core, int fd, bool direct, int listener)
    {
        int slot = SlotFor(fd);
        _generation = (_generation + 1) & 0xFFFFFF;
        core.Add(fd, slot, listener, direct ? ConnFlags.Direct : ConnFlags.None, _generation);
    }

    /// <summary>TCP_NODELAY and the configured socket buffer sizes: on a listener, for the sockets it accepts.</summary>
    private readonly void SetSocketOptions(int fd)
    {
        Libc.SetIntOption(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, 1);
        if (_options.SocketSendBufferSize > 0)
            Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, _options.SocketSendBufferSize);
        if (_options.SocketReceiveBufferSize > 0)
            Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, _options.SocketReceiveBufferSize);
    }

    /// <summary>Gives the ring a table of <see cref="DirectDescriptorLimit"/> slots at most (fewer when the
    /// descriptor limit is lower, which the kernel enforces), for the sockets its accepts create. Without one
    /// (the registration failed) accepted sockets are plain descriptors.</summary>
    private void RegisterDirectTable()
    {
        if (!UseDirectDescriptors)
            return;
        long limit = Libc.OpenFileLimit();
        uint slots = (uint)Math.Clamp(limit, 0, Math.Min(DirectDescriptorLimit, IoUringReactor.MaxDirectDescriptors));
        if (slots == 0)
            return;
        IoUringRsrcRegister table = default;
        table.Count = slots;
        table.Flags = IORING_RSRC_REGISTER_SPARSE;
        if (_ring.Register(IORING_REGISTER_FILES2, &table, (uint)sizeof(IoUringRsrcRegister)) >= 0)
            _directSlots = (int)slots;
    }

    private sealed class ListenerEntry(SocketListener listener)
    {
        public readonly SocketListener Listener = listener;

        /// <summary>An accept is in the kernel for this listener.</summary>
        public bool Armed;

        /// <summary>The thread that armed it: only the ring's issuer may queue its cancellation.</summary>
        public int ArmedBy;

        /// <summary>That accept takes one connection (not multishot).</summary>
        public bool Single;

        /// <summary>That multishot accept is being cancelled.</summary>
        public bool Cancelling;
    }
}
