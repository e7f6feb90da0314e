using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using WsGen.Native;
using WsGen.Transport;
using static WsGen.Native.IoUringAbi;

namespace WsGen.Reactor;

/// <summary>
/// Listening and accepting. Accepted sockets are direct descriptors: they live in the ring's registered file table,
/// not in the process's descriptor table, so operations on them skip the descriptor lookup and a loop holds up to
/// <see cref="IoUringReactor.MaxDirectDescriptors"/> connections whatever the process's descriptor limit is. The
/// kernel accepts a connection before it looks for a free slot, and drops it when there is none: so each armed accept
/// counts as a slot taken, and with no slot free the loop stops accepting until a connection closes; connections
/// meanwhile wait in the listen backlog. Every accept takes one connection (not multishot) and reports its peer
/// address, which <c>getpeername</c> could not learn from a direct descriptor. Socket options (TCP_NODELAY, buffer sizes) are set on
/// the listener, which accepted sockets inherit. Connections handed over with <see cref="IReactor.Register"/> keep
/// their plain descriptor.
/// </summary>
internal unsafe partial struct IoUringBackend
{
    /// <summary>Slots in the ring's direct descriptor table; 0 when accepted sockets are plain descriptors.</summary>
    internal readonly int DirectDescriptorSlots => _directSlots;

    /// <summary>True while accepting waits for a free slot of the full direct descriptor table, with no accept armed
    /// (so the kernel accepts nothing meanwhile). Read on the loop thread; for tests.</summary>
    internal readonly bool AcceptWaitsForSlot => _acceptWaitsForSlot;

    /// <summary>Free direct descriptor slots, less those that armed accepts may take.</summary>
    private readonly int FreeDirectSlots => _directSlots - _directInUse - _acceptsArmed;

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

    public readonly bool TryAccept(int listener, out int handle, out PeerAddress peer)
    {
        handle = -1;
        peer = default;
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
        AddConnection(core, fd, direct: false, listener: -1, default);
    }

    public readonly void DropTakenOver(object state) => ((SocketConn)state).Close();

    /// <summary>Arms an accept on every open listener that has none, unless the direct descriptor table is full.</summary>
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
                bool direct = _directSlots > 0;
                if (direct && FreeDirectSlots <= 0)
                {
                    _acceptWaitsForSlot = true;
                    return;
                }

                // One connection per accept, so that the address it reports is that connection's: a multishot
                // accept writes every address into the same buffer, overwritten before the loop reaps them.
                entry.PeerLength = SockAddr.Size;
                _ring.PrepareAccept(entry.Listener.Fd, direct, Tag(Op.Accept, (uint)i),
                    entry.PeerBuffer, entry.PeerLengthPointer);
                entry.Armed = true;
                entry.ArmedBy = Environment.CurrentManagedThreadId;
                if (direct)
                    _acceptsArmed++;
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
            if (_directSlots > 0)
                _acceptsArmed--;
        }

        int result = cqe.Result;
        if (result >= 0)
        {
            bool direct = _directSlots > 0;
            if (direct)
            {
                _directInUse++;
            }

            if (!core.ShuttingDown && !_stopping)
                AddConnection(core, result, direct, (int)(uint)cqe.UserData, entry.Peer);
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

    private void AddConnection(ConnectionCore<IoUringBackend> core, int fd, bool direct, int listener, PeerAddress peer)
    {
        int slot = SlotFor(fd);
        _generation = (_generation + 1) & 0xFFFFFF;
        core.Add(fd, slot, listener, peer, direct ? ConnFlags.Direct : ConnFlags.None, _generation);
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

        /// <summary>Where the kernel writes the armed accept's peer address and its length: pinned, and kept as
        /// long as the entry (the backend's list holds it until disposal), so it outlives every accept in flight.</summary>
        private readonly byte[] _peer = GC.AllocateArray<byte>(SockAddr.Size + sizeof(uint), pinned: true);

        public byte* PeerBuffer => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_peer));

        public uint* PeerLengthPointer => (uint*)(PeerBuffer + SockAddr.Size);

        public uint PeerLength
        {
            get => *PeerLengthPointer;
            set => *PeerLengthPointer = value;
        }

        /// <summary>The address the last completed accept reported.</summary>
        public PeerAddress Peer => PeerAddress.FromSockAddr(new ReadOnlySpan<byte>(PeerBuffer, SockAddr.Size), (int)PeerLength);
    }
}
