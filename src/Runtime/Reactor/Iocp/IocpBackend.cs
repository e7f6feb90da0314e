using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using WsGen.Native;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The IOCP backend of <see cref="IocpReactor"/>. A zero-byte WSARecv completes when a connection is readable (so an
/// idle connection holds no buffer), and the core then reads it with non-blocking <c>recv</c> into the shared buffer;
/// writes go out with non-blocking <c>send</c>, and what waits is sent with an overlapped WSASend straight from the
/// connection's <see cref="SendQueue"/> (<see cref="ConnectionCore{TBackend}.QueueSent"/> reports its end); each
/// listener keeps <see cref="AcceptsPerListener"/> AcceptEx calls posted; PostQueuedCompletionStatus wakes the loop.
/// </summary>
/// <remarks>
/// Every OVERLAPPED lives in native memory (one block per connection slot, one per posted accept), so the GC never
/// moves it; a slot and its block are reused only after every operation posted on it has completed, even when the
/// connection closed before. Sockets are not put in FILE_SKIP_COMPLETION_PORT_ON_SUCCESS mode: every posted
/// operation, finished inline or not, is reported once through the port, which keeps one completion path.
/// </remarks>
[SupportedOSPlatform("windows")]
internal readonly unsafe struct IocpBackend : ILoopBackend<IocpBackend>
{
    private const int MaxEntries = 256;
    private const int AcceptsPerListener = 16;
    private const int AcceptBlockSize = 128;
    private const int ConnBlockSize = 96;
    private const int SendOverlappedOffset = 32;
    private const int ReceiveBufOffset = 64;
    private const int SendBufOffset = 80;
    private const ulong ListenerKey = 1UL << 40;
    private const ulong WakeKey = 1UL << 41;

    private readonly ReactorOptions _options;
    private readonly nint _port;
    private readonly OverlappedEntry* _entries;
    private readonly State _state;

    internal IocpBackend(ReactorOptions options)
    {
        _options = options;
        _state = new State();
        Winsock.EnsureStarted();
        _port = Iocp.CreateIoCompletionPort(Iocp.INVALID_HANDLE_VALUE, 0, 0, 1);
        if (_port == 0)
            throw new SocketException(Marshal.GetLastPInvokeError());
        _entries = (OverlappedEntry*)NativeMemory.Alloc((nuint)(MaxEntries * sizeof(OverlappedEntry)));
    }

    public int CorkSize => _options.SendBufferSize;

    // ---- the loop ---------------------------------------------------------------------------------------------

    public void Starting(ConnectionCore<IocpBackend> core)
    {
    }

    public void Poll(ConnectionCore<IocpBackend> core, int timeoutMilliseconds)
    {
        uint removed;
        if (Iocp.GetQueuedCompletionStatusEx(_port, _entries, MaxEntries, &removed, (uint)timeoutMilliseconds, 0) == 0)
        {
            int error = Marshal.GetLastPInvokeError();
            if (error == Iocp.WAIT_TIMEOUT)
                return;
            throw new IOException($"GetQueuedCompletionStatusEx failed (error {error}).", new SocketException(error));
        }

        for (int i = 0; i < (int)removed; i++)
        {
            OverlappedEntry entry = _entries[i];
            ulong key = entry.CompletionKey;
            if (key == WakeKey)
            {
                core.WakeConsumed();
                continue;
            }

            bool failed = entry.Overlapped->InternalLow != 0;
            _state.InFlight--;
            if ((key & ListenerKey) != 0)
                AcceptCompleted(core, (int)(key & ~ListenerKey), entry.Overlapped, failed);
            else
                ConnCompleted(core, (int)key, entry.Overlapped, failed, entry.BytesTransferred);
            core.DeliverCloses();
        }
    }

    public void Signal() => Iocp.PostQueuedCompletionStatus(_port, 0, unchecked((nuint)WakeKey), null);

    public void Stopped(ConnectionCore<IocpBackend> core)
    {
    }

    private void ConnCompleted(ConnectionCore<IocpBackend> core, int slot, NativeOverlapped* overlapped, bool failed, uint bytes)
    {
        ref SlotOps ops = ref _state.Ops[slot];
        LoopConnection<IocpBackend>? conn = core.Lookup(slot);
        if (conn is null)
            return;
        bool isReceive = (byte*)overlapped == ops.Block;
        if (isReceive)
        {
            conn.Flags &= ~ConnFlags.ReceivePending;
        }
        else
        {
            conn.SendBusy = false;
            ops.Pin.Dispose();
            ops.Pin = default;
        }

        if (conn.State == LoopConnState.Closed)
        {
            if (ops.Parked is { } parked && !conn.SendBusy)
            {
                ops.Parked = null;
                core.ReturnQueue(parked);
            }

            if (!conn.Has(ConnFlags.ReceivePending) && !conn.SendBusy)
                ReleaseSlot(core, conn);
            return;
        }

        if (isReceive)
            core.Readable(conn, hangUp: failed);
        else if (failed)
            core.Finish(conn);
        else
            core.QueueSent(conn, (int)bytes);
    }

    // ---- connections ------------------------------------------------------------------------------------------

    public int SlotFor(int handle)
    {
        int slot = _state.Slots.Take();
        if (slot == _state.Ops.Length)
            Array.Resize(ref _state.Ops, _state.Ops.Length * 2);
        if (_state.Ops[slot].Block == null)
            _state.Ops[slot].Block = (byte*)NativeMemory.AllocZeroed(ConnBlockSize);
        return slot;
    }

    private void ReleaseSlot(ConnectionCore<IocpBackend> core, LoopConnection<IocpBackend> conn)
    {
        core.ReleaseSlot(conn);
        _state.Slots.Return(conn.Slot);
    }

    /// <summary>The configured buffer sizes, and the socket joins the port with its slot as the key.</summary>
    public bool Open(ConnectionCore<IocpBackend> core, LoopConnection<IocpBackend> conn)
    {
        nint socket = conn.Handle;
        if (_options.SocketSendBufferSize > 0)
            Winsock.SetIntOption(socket, Winsock.SOL_SOCKET, Winsock.SO_SNDBUF, _options.SocketSendBufferSize);
        if (_options.SocketReceiveBufferSize > 0)
            Winsock.SetIntOption(socket, Winsock.SOL_SOCKET, Winsock.SO_RCVBUF, _options.SocketReceiveBufferSize);
        return Iocp.CreateIoCompletionPort(socket, _port, (nuint)conn.Slot, 0) == _port;
    }

    /// <summary>Posts the zero-byte WSARecv that reports readability while the core wants input, and an overlapped
    /// WSASend of the first waiting segment while bytes wait; one of each in flight at most.</summary>
    public void UpdateInterest(ConnectionCore<IocpBackend> core, LoopConnection<IocpBackend> conn)
    {
        if (!conn.Has(ConnFlags.ReceivePending) && ConnectionCore<IocpBackend>.WantsInput(conn) && !PostReceive(conn))
        {
            core.Finish(conn);
            return;
        }

        if (!conn.SendBusy && conn.Waiting is { IsEmpty: false } && !PostSend(conn))
            core.Finish(conn);
    }

    private bool PostReceive(LoopConnection<IocpBackend> conn)
    {
        ref SlotOps ops = ref _state.Ops[conn.Slot];
        var overlapped = (NativeOverlapped*)ops.Block;
        *overlapped = default;
        var buf = (WsaBuf*)(ops.Block + ReceiveBufOffset);
        buf->Length = 0;
        buf->Buffer = ops.Block;
        uint flags = 0;
        if (Winsock.WSARecv(conn.Handle, buf, 1, null, &flags, overlapped, null) != 0 && Winsock.LastError != Winsock.WSA_IO_PENDING)
            return false;
        conn.Flags |= ConnFlags.ReceivePending;
        _state.InFlight++;
        return true;
    }

    /// <summary>Posts an overlapped WSASend of the first waiting segment, pinned until it completes.</summary>
    private bool PostSend(LoopConnection<IocpBackend> conn)
    {
        ref SlotOps ops = ref _state.Ops[conn.Slot];
        ReadOnlyMemory<byte> first = conn.Waiting!.FirstMemory;
        MemoryHandle pin = first.Pin();
        var overlapped = (NativeOverlapped*)(ops.Block + SendOverlappedOffset);
        *overlapped = default;
        var buf = (WsaBuf*)(ops.Block + SendBufOffset);
        buf->Length = (uint)first.Length;
        buf->Buffer = (byte*)pin.Pointer;
        if (Winsock.WSASend(conn.Handle, buf, 1, null, 0, overlapped, null) != 0 && Winsock.LastError != Winsock.WSA_IO_PENDING)
        {
            pin.Dispose();
            return false;
        }

        ops.Pin = pin;
        conn.SendBusy = true;
        _state.InFlight++;
        return true;
    }

    public int Receive(LoopConnection<IocpBackend> conn, byte* buffer, int length)
    {
        while (true)
        {
            int n = Winsock.recv(conn.Handle, buffer, length, 0);
            if (n >= 0)
                return n;
            int error = Winsock.LastError;
            if (error != Winsock.WSAEINTR)
                return error == Winsock.WSAEWOULDBLOCK ? IoResult.WouldBlock : IoResult.Failed;
        }
    }

    public int Send(ConnectionCore<IocpBackend> core, LoopConnection<IocpBackend> conn, byte* data, int length)
    {
        while (true)
        {
            int n = Winsock.send(conn.Handle, data, length, 0);
            if (n >= 0)
                return n;
            int error = Winsock.LastError;
            if (error != Winsock.WSAEINTR)
                return error == Winsock.WSAEWOULDBLOCK ? 0 : IoResult.Failed;
        }
    }

    /// <summary>Sends are synchronous, or go out from the waiting queue itself: nothing else is in flight.</summary>
    public int InFlightBytes(LoopConnection<IocpBackend> conn) => 0;

    public int SendCork(ConnectionCore<IocpBackend> core, LoopConnection<IocpBackend> conn, ref byte* cork, int length)
        => Send(core, conn, cork, length);

    public bool ShutdownSend(ConnectionCore<IocpBackend> core, LoopConnection<IocpBackend> conn)
        => Winsock.shutdown(conn.Handle, Winsock.SD_SEND) == 0;

    /// <summary>Closes the socket; operations still in flight complete (aborted) later, and only then is the slot
    /// reused. A send in flight keeps its queue's buffer (parked) until it completes.</summary>
    public void Close(ConnectionCore<IocpBackend> core, LoopConnection<IocpBackend> conn)
    {
        Winsock.closesocket(conn.Handle);
        conn.Handle = -1;
        if (!conn.Has(ConnFlags.ReceivePending) && !conn.SendBusy)
        {
            ReleaseSlot(core, conn);
            return;
        }

        if (conn.SendBusy)
        {
            _state.Ops[conn.Slot].Parked = conn.Waiting;
            conn.Waiting = null;
        }
    }

    public void CloseAtDispose(LoopConnection<IocpBackend> conn)
    {
        if (conn.Handle != -1)
            Winsock.closesocket(conn.Handle);
        conn.Handle = -1;
    }

    public object TakeOver(INetConn conn)
        => throw new NotSupportedException($"IocpReactor serves the connections its listeners accept; it cannot register a {conn.GetType().Name}.");

    public void AddTakenOver(ConnectionCore<IocpBackend> core, object state) => throw new NotSupportedException();

    public void DropTakenOver(object state)
    {
    }

    // ---- listeners --------------------------------------------------------------------------------------------

    public IPEndPoint Listen(ConnectionCore<IocpBackend> core, IPEndPoint endPoint)
    {
        SockAddr address;
        int length = SockAddr.FromEndPoint(endPoint, out address);
        bool v6 = endPoint.AddressFamily == AddressFamily.InterNetworkV6;
        // Windows' sockaddr_in/sockaddr_in6 have Linux's layout (u16 family) but AF_INET6 is 23.
        if (v6)
            ((byte*)&address)[0] = Winsock.AF_INET6;
        int family = v6 ? Winsock.AF_INET6 : Winsock.AF_INET;
        nint socket = Winsock.WSASocketW(family, Winsock.SOCK_STREAM, Winsock.IPPROTO_TCP, null, 0, Winsock.WSA_FLAG_OVERLAPPED | Winsock.WSA_FLAG_NO_HANDLE_INHERIT);
        if (socket == Winsock.INVALID_SOCKET)
            throw Winsock.LastException();
        try
        {
            Check(Winsock.SetIntOption(socket, Winsock.SOL_SOCKET, Winsock.SO_EXCLUSIVEADDRUSE, 1));
            Check(Winsock.bind(socket, (byte*)&address, length));
            Check(Winsock.listen(socket, _options.Backlog <= 0 ? Winsock.SOMAXCONN : _options.Backlog));
            SockAddr bound = default;
            int boundLength = SockAddr.Size;
            Check(Winsock.getsockname(socket, (byte*)&bound, &boundLength));
            Span<byte> boundBytes = bound;
            if (BitConverter.ToUInt16(boundBytes) == Winsock.AF_INET6)
                BitConverter.TryWriteBytes(boundBytes, (ushort)Libc.AF_INET6);
            IPEndPoint local = SockAddr.ToEndPoint(boundBytes);

            Guid id = Winsock.WSAID_ACCEPTEX;
            nint acceptEx;
            uint returned;
            Check(Winsock.WSAIoctl(socket, Winsock.SIO_GET_EXTENSION_FUNCTION_POINTER, &id, (uint)sizeof(Guid), &acceptEx, (uint)sizeof(nint), &returned, null, null));

            lock (_state.Listeners)
            {
                var listener = new Listener(socket, family, acceptEx);
                int index = _state.Listeners.Count;
                if (Iocp.CreateIoCompletionPort(socket, _port, unchecked((nuint)(ListenerKey | (uint)index)), 0) != _port)
                    throw new SocketException(Marshal.GetLastPInvokeError());
                _state.Listeners.Add(listener);
                for (int i = 0; i < AcceptsPerListener; i++)
                    PostAccept(listener, i);
            }

            return local;
        }
        catch
        {
            Winsock.closesocket(socket);
            throw;
        }
    }

    /// <summary>Posts AcceptEx number <paramref name="i"/> of <paramref name="listener"/> with a fresh socket.
    /// Returns false when no socket could be made (out of resources): accepting then backs off.</summary>
    private bool PostAccept(Listener listener, int i)
    {
        while (listener.Socket != Winsock.INVALID_SOCKET)
        {
            nint socket = Winsock.WSASocketW(listener.Family, Winsock.SOCK_STREAM, Winsock.IPPROTO_TCP, null, 0, Winsock.WSA_FLAG_OVERLAPPED | Winsock.WSA_FLAG_NO_HANDLE_INHERIT);
            if (socket == Winsock.INVALID_SOCKET)
                return false;
            byte* block = listener.Blocks + (i * AcceptBlockSize);
            var overlapped = (NativeOverlapped*)block;
            *overlapped = default;
            uint received;
            var acceptEx = (delegate* unmanaged<nint, nint, byte*, uint, uint, uint, uint*, NativeOverlapped*, int>)listener.AcceptEx;
            if (acceptEx(listener.Socket, socket, block + sizeof(NativeOverlapped), 0, Winsock.AcceptAddressLength, Winsock.AcceptAddressLength, &received, overlapped) != 0
                || Winsock.LastError == Winsock.WSA_IO_PENDING)
            {
                listener.Pending[i] = socket;
                _state.InFlight++;
                return true;
            }

            int error = Winsock.LastError;
            Winsock.closesocket(socket);
            if (error != Winsock.WSAECONNRESET)
                return false;
        }

        return false;
    }

    private void AcceptCompleted(ConnectionCore<IocpBackend> core, int index, NativeOverlapped* overlapped, bool failed)
    {
        Listener listener;
        lock (_state.Listeners)
            listener = _state.Listeners[index];
        int i = (int)(((byte*)overlapped - listener.Blocks) / AcceptBlockSize);
        nint socket = listener.Pending[i];
        listener.Pending[i] = Winsock.INVALID_SOCKET;
        nint listenSocket = listener.Socket;
        if (failed || listenSocket == Winsock.INVALID_SOCKET || core.ShuttingDown
            || Winsock.setsockopt(socket, Winsock.SOL_SOCKET, Winsock.SO_UPDATE_ACCEPT_CONTEXT, &listenSocket, sizeof(nint)) != 0)
        {
            Winsock.closesocket(socket);
            if (listenSocket != Winsock.INVALID_SOCKET && !core.ShuttingDown && !PostAccept(listener, i))
                core.PauseAccepting();
            return;
        }

        uint nonBlocking = 1;
        Winsock.ioctlsocket(socket, Winsock.FIONBIO, &nonBlocking);
        Winsock.SetIntOption(socket, Winsock.IPPROTO_TCP, Winsock.TCP_NODELAY, 1);
        if (!PostAccept(listener, i))
            core.PauseAccepting();
        core.Add((int)socket, SlotFor((int)socket), index, PeerOf(socket));
    }

    public bool TryAccept(int listener, out int handle, out PeerAddress peer)
    {
        // Completion-based: connections arrive through AcceptEx completions, never by polling.
        handle = -1;
        peer = default;
        return false;
    }

    /// <summary>The remote address of an accepted socket (getpeername, valid once SO_UPDATE_ACCEPT_CONTEXT is set);
    /// unknown when that fails or for IPv6, whose family number differs on Windows.</summary>
    private static PeerAddress PeerOf(nint socket)
    {
        SockAddr address = default;
        int length = SockAddr.Size;
        return Winsock.getpeername(socket, (byte*)&address, &length) == 0 ? PeerAddress.FromSockAddr(address, length) : default;
    }

    /// <summary>After a back-off, posts the accepts that could not be posted; pausing needs nothing (the posted
    /// accepts stay posted).</summary>
    public void SetAccepting(ConnectionCore<IocpBackend> core, bool accepting)
    {
        if (!accepting)
            return;
        lock (_state.Listeners)
        {
            foreach (Listener listener in _state.Listeners)
            {
                for (int i = 0; i < AcceptsPerListener; i++)
                {
                    if (listener.Pending[i] == Winsock.INVALID_SOCKET && !PostAccept(listener, i))
                    {
                        core.PauseAccepting();
                        return;
                    }
                }
            }
        }
    }

    public void CloseListeners()
    {
        lock (_state.Listeners)
        {
            foreach (Listener listener in _state.Listeners)
            {
                nint socket = Interlocked.Exchange(ref listener.Socket, Winsock.INVALID_SOCKET);
                if (socket != Winsock.INVALID_SOCKET)
                    Winsock.closesocket(socket);
            }
        }
    }

    public void Dispose()
    {
        // Closed sockets abort their operations; wait (briefly) for those completions so that no OVERLAPPED is
        // freed while Windows may still write to it. Blocks still in use after that are leaked, not freed.
        lock (_state.Listeners)
        {
            foreach (Listener listener in _state.Listeners)
            {
                for (int i = 0; i < AcceptsPerListener; i++)
                {
                    if (listener.Pending[i] != Winsock.INVALID_SOCKET)
                        Winsock.closesocket(listener.Pending[i]);
                }
            }
        }

        long deadline = Environment.TickCount64 + 1000;
        while (_state.InFlight > 0 && Environment.TickCount64 < deadline)
        {
            uint removed;
            if (Iocp.GetQueuedCompletionStatusEx(_port, _entries, MaxEntries, &removed, 50, 0) == 0)
                continue;
            for (int i = 0; i < (int)removed; i++)
            {
                if ((ulong)_entries[i].CompletionKey != WakeKey)
                    _state.InFlight--;
            }
        }

        Iocp.CloseHandle(_port);
        NativeMemory.Free(_entries);
        if (_state.InFlight > 0)
            return;
        for (int slot = 0; slot < _state.Slots.Count; slot++)
        {
            _state.Ops[slot].Pin.Dispose();
            NativeMemory.Free(_state.Ops[slot].Block);
        }

        foreach (Listener listener in _state.Listeners)
            NativeMemory.Free(listener.Blocks);
    }

    private static void Check(int rc)
    {
        if (rc != 0)
            throw Winsock.LastException();
    }


    /// <summary>The native block of one connection slot; reused once nothing is in flight on it.</summary>
    private struct SlotOps
    {
        /// <summary>Receive OVERLAPPED at 0, send OVERLAPPED at 32, receive WSABUF at 64, send WSABUF at 80.</summary>
        public byte* Block;
        public MemoryHandle Pin;

        /// <summary>The waiting queue of a closed connection, kept while a send still reads from it.</summary>
        public SendQueue? Parked;
    }

    /// <summary>What the backend changes as it runs: the slots' native blocks, the listeners, the operations in flight.</summary>
    private sealed class State
    {
        public SlotOps[] Ops = new SlotOps[256];
        public int InFlight;
        public readonly SlotNumbers Slots = new();
        public readonly List<Listener> Listeners = [];
    }

    /// <summary>A listening socket and its posted AcceptEx calls (OVERLAPPED and address buffer per call).</summary>
    private sealed class Listener
    {
        public nint Socket;
        public readonly int Family;
        public readonly nint AcceptEx;
        public readonly byte* Blocks = (byte*)NativeMemory.AllocZeroed(AcceptsPerListener * AcceptBlockSize);
        public readonly nint[] Pending = [.. Enumerable.Repeat(Winsock.INVALID_SOCKET, AcceptsPerListener)];

        public Listener(nint socket, int family, nint acceptEx)
        {
            Socket = socket;
            Family = family;
            AcceptEx = acceptEx;
        }
    }
}
