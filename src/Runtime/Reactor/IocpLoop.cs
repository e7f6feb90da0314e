using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using WsGen.Native;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The IOCP backend of <see cref="IocpReactor"/>. Completions drive the shared state machine: a zero-byte WSARecv
/// completes when a connection is readable (so an idle connection holds no buffer), and the loop then reads it with
/// non-blocking <c>recv</c> into the shared buffer; writes go out with non-blocking <c>send</c>, and what waits is
/// sent with an overlapped WSASend straight from the connection's <see cref="SendQueue"/>; each listener keeps
/// <see cref="AcceptsPerListener"/> AcceptEx calls posted; PostQueuedCompletionStatus wakes the loop.
/// </summary>
/// <remarks>
/// Every OVERLAPPED lives in native memory (one block per connection slot, one per posted accept), so the GC never
/// moves it; a slot and its block are reused only after every operation posted on it has completed, even when the
/// connection closed before. Sockets are not put in FILE_SKIP_COMPLETION_PORT_ON_SUCCESS mode: every posted
/// operation, finished inline or not, is reported once through the port, which keeps one completion path.
/// </remarks>
[SupportedOSPlatform("windows")]
internal sealed unsafe class IocpLoop : NativeLoop
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

    private readonly nint _port;
    private readonly OverlappedEntry* _entries;
    private readonly List<Listener> _listeners = [];
    private readonly Stack<int> _freeSlots = new();
    private SlotOps[] _ops = new SlotOps[256];
    private int _slotCount;
    private int _inFlight;

    internal IocpLoop(IConnectionHandler handler, ReactorOptions? options)
        : base(handler, options)
    {
        Winsock.EnsureStarted();
        _port = Iocp.CreateIoCompletionPort(Iocp.INVALID_HANDLE_VALUE, 0, 0, 1);
        if (_port == 0)
            throw new SocketException(Marshal.GetLastPInvokeError());
        _entries = (OverlappedEntry*)NativeMemory.Alloc((nuint)(MaxEntries * sizeof(OverlappedEntry)));
    }

    // ---- completions ------------------------------------------------------------------------------------------

    protected override void Poll(int timeoutMilliseconds)
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
                WakeConsumed();
                continue;
            }

            bool failed = entry.Overlapped->InternalLow != 0;
            _inFlight--;
            if ((key & ListenerKey) != 0)
                AcceptCompleted((int)(key & ~ListenerKey), entry.Overlapped, failed);
            else
                ConnCompleted((int)key, entry.Overlapped, failed, entry.BytesTransferred);
            DeliverCloses();
        }
    }

    private void ConnCompleted(int slot, NativeOverlapped* overlapped, bool failed, uint bytes)
    {
        ref SlotOps ops = ref _ops[slot];
        bool isReceive = (byte*)overlapped == ops.Block;
        if (isReceive)
        {
            ops.ReceivePending = false;
        }
        else
        {
            ops.SendPending = false;
            ops.Pin.Dispose();
            ops.Pin = default;
        }

        if (ops.Closed)
        {
            if (ops.Parked is { } parked && !ops.SendPending)
            {
                ops.Parked = null;
                ReturnQueue(parked);
            }

            if (!ops.ReceivePending && !ops.SendPending)
                ReleaseSlot(slot);
            return;
        }

        NativeConn? conn = Lookup(slot);
        if (conn is null)
            return;
        if (isReceive)
        {
            HandleReadable(conn, hangUp: failed);
            if (conn.State != LoopConnState.Closed && (conn.Interest & Interest.Read) != 0 && !PostReceive(conn))
                Finish(conn);
            return;
        }

        if (failed)
        {
            Finish(conn);
            return;
        }

        conn.Waiting?.Consume((int)bytes);
        HandleWritable(conn);
        if (conn.State != LoopConnState.Closed && conn.Waiting is not null && !PostSend(conn))
            Finish(conn);
    }

    /// <summary>Posts the zero-byte WSARecv that reports readability, unless one is in flight.</summary>
    private bool PostReceive(NativeConn conn)
    {
        ref SlotOps ops = ref _ops[conn.Slot];
        if (ops.ReceivePending)
            return true;
        var overlapped = (NativeOverlapped*)ops.Block;
        *overlapped = default;
        var buf = (WsaBuf*)(ops.Block + ReceiveBufOffset);
        buf->Length = 0;
        buf->Buffer = ops.Block;
        uint flags = 0;
        if (Winsock.WSARecv(conn.Socket, buf, 1, null, &flags, overlapped, null) != 0 && Winsock.LastError != Winsock.WSA_IO_PENDING)
            return false;
        ops.ReceivePending = true;
        _inFlight++;
        return true;
    }

    /// <summary>Posts an overlapped WSASend of the first waiting segment (pinned until it completes), unless one is
    /// in flight.</summary>
    private bool PostSend(NativeConn conn)
    {
        ref SlotOps ops = ref _ops[conn.Slot];
        if (ops.SendPending || conn.Waiting is not { IsEmpty: false } queue)
            return true;
        ReadOnlyMemory<byte> first = queue.FirstMemory;
        MemoryHandle pin = first.Pin();
        var overlapped = (NativeOverlapped*)(ops.Block + SendOverlappedOffset);
        *overlapped = default;
        var buf = (WsaBuf*)(ops.Block + SendBufOffset);
        buf->Length = (uint)first.Length;
        buf->Buffer = (byte*)pin.Pointer;
        if (Winsock.WSASend(conn.Socket, buf, 1, null, 0, overlapped, null) != 0 && Winsock.LastError != Winsock.WSA_IO_PENDING)
        {
            pin.Dispose();
            return false;
        }

        ops.Pin = pin;
        ops.SendPending = true;
        _inFlight++;
        return true;
    }

    protected override void Signal() => Iocp.PostQueuedCompletionStatus(_port, 0, unchecked((nuint)WakeKey), null);

    // ---- connections ------------------------------------------------------------------------------------------

    protected override int SlotOf(nint socket)
    {
        if (_freeSlots.Count > 0)
            return _freeSlots.Pop();
        int slot = _slotCount++;
        if (slot == _ops.Length)
            Array.Resize(ref _ops, _ops.Length * 2);
        _ops[slot].Block = (byte*)NativeMemory.AllocZeroed(ConnBlockSize);
        return slot;
    }

    private void ReleaseSlot(int slot)
    {
        ref SlotOps ops = ref _ops[slot];
        ops.Closed = false;
        _freeSlots.Push(slot);
    }

    protected override bool Watch(NativeConn conn)
    {
        if (Iocp.CreateIoCompletionPort(conn.Socket, _port, (nuint)conn.Slot, 0) != _port)
            return false;
        return PostReceive(conn);
    }

    protected override bool ChangeInterest(NativeConn conn, Interest wanted)
    {
        if ((wanted & Interest.Read) != 0 && !PostReceive(conn))
            return false;
        if ((wanted & Interest.Write) != 0 && !PostSend(conn))
            return false;
        return true;
    }

    protected override int Receive(nint socket, byte* buffer, int length)
    {
        while (true)
        {
            int n = Winsock.recv(socket, buffer, length, 0);
            if (n >= 0)
                return n;
            int error = Winsock.LastError;
            if (error == Winsock.WSAEINTR)
                continue;
            return error == Winsock.WSAEWOULDBLOCK ? WouldBlock : Failed;
        }
    }

    protected override int Send(nint socket, byte* data, int length)
    {
        while (true)
        {
            int n = Winsock.send(socket, data, length, 0);
            if (n >= 0)
                return n;
            int error = Winsock.LastError;
            if (error == Winsock.WSAEINTR)
                continue;
            return error == Winsock.WSAEWOULDBLOCK ? WouldBlock : Failed;
        }
    }

    protected override bool ShutdownSend(nint socket) => Winsock.shutdown(socket, Winsock.SD_SEND) == 0;

    /// <summary>Closes the socket; operations still in flight complete (aborted) later, and only then is the slot
    /// reused. A send in flight keeps its queue's buffer until it completes.</summary>
    protected override void CloseSocket(NativeConn conn)
    {
        Winsock.closesocket(conn.Socket);
        ref SlotOps ops = ref _ops[conn.Slot];
        if (!ops.ReceivePending && !ops.SendPending)
        {
            _freeSlots.Push(conn.Slot);
            return;
        }

        ops.Closed = true;
        if (ops.SendPending)
        {
            ops.Parked = conn.Waiting;
            conn.Waiting = null;
        }
    }

    protected override void CloseRaw(nint socket) => Winsock.closesocket(socket);

    protected override void ConfigureAccepted(nint socket)
    {
        if (Options.SocketSendBufferSize > 0)
            Winsock.SetIntOption(socket, Winsock.SOL_SOCKET, Winsock.SO_SNDBUF, Options.SocketSendBufferSize);
        if (Options.SocketReceiveBufferSize > 0)
            Winsock.SetIntOption(socket, Winsock.SOL_SOCKET, Winsock.SO_RCVBUF, Options.SocketReceiveBufferSize);
    }

    protected override nint DetachRegistered(INetConn conn)
        => throw new NotSupportedException($"IocpReactor serves the connections its listeners accept; it cannot register a {conn.GetType().Name}.");

    // ---- listeners --------------------------------------------------------------------------------------------

    protected override IPEndPoint OpenListener(IPEndPoint endPoint)
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
            Check(Winsock.listen(socket, Options.Backlog <= 0 ? Winsock.SOMAXCONN : Options.Backlog));
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

            lock (_listeners)
            {
                var listener = new Listener(socket, family, acceptEx);
                int index = _listeners.Count;
                if (Iocp.CreateIoCompletionPort(socket, _port, unchecked((nuint)(ListenerKey | (uint)index)), 0) != _port)
                    throw new SocketException(Marshal.GetLastPInvokeError());
                _listeners.Add(listener);
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
                _inFlight++;
                return true;
            }

            int error = Winsock.LastError;
            Winsock.closesocket(socket);
            if (error != Winsock.WSAECONNRESET)
                return false;
        }

        return false;
    }

    private void AcceptCompleted(int index, NativeOverlapped* overlapped, bool failed)
    {
        Listener listener;
        lock (_listeners)
            listener = _listeners[index];
        int i = (int)(((byte*)overlapped - listener.Blocks) / AcceptBlockSize);
        nint socket = listener.Pending[i];
        listener.Pending[i] = Winsock.INVALID_SOCKET;
        nint listenSocket = listener.Socket;
        if (failed || listenSocket == Winsock.INVALID_SOCKET || ShuttingDown
            || Winsock.setsockopt(socket, Winsock.SOL_SOCKET, Winsock.SO_UPDATE_ACCEPT_CONTEXT, &listenSocket, sizeof(nint)) != 0)
        {
            Winsock.closesocket(socket);
            if (listenSocket != Winsock.INVALID_SOCKET && !ShuttingDown && !PostAccept(listener, i))
                PauseAccepting();
            return;
        }

        uint nonBlocking = 1;
        Winsock.ioctlsocket(socket, Winsock.FIONBIO, &nonBlocking);
        Winsock.SetIntOption(socket, Winsock.IPPROTO_TCP, Winsock.TCP_NODELAY, 1);
        if (!PostAccept(listener, i))
            PauseAccepting();
        AddConnection(socket);
    }

    protected override bool TryAccept(int listenerIndex, out nint socket)
    {
        // Completion-based: connections arrive through AcceptEx completions, never by polling.
        socket = Winsock.INVALID_SOCKET;
        return false;
    }

    /// <summary>After a back-off, posts the accepts that could not be posted; pausing needs nothing (the posted
    /// accepts stay posted).</summary>
    protected override void SetListenersWatched(bool watched)
    {
        if (!watched)
            return;
        lock (_listeners)
        {
            foreach (Listener listener in _listeners)
            {
                for (int i = 0; i < AcceptsPerListener; i++)
                {
                    if (listener.Pending[i] == Winsock.INVALID_SOCKET && !PostAccept(listener, i))
                    {
                        PauseAccepting();
                        return;
                    }
                }
            }
        }
    }

    protected override void CloseListeners()
    {
        lock (_listeners)
        {
            foreach (Listener listener in _listeners)
            {
                nint socket = Interlocked.Exchange(ref listener.Socket, Winsock.INVALID_SOCKET);
                if (socket != Winsock.INVALID_SOCKET)
                    Winsock.closesocket(socket);
            }
        }
    }

    protected override void DisposeBackend()
    {
        // Closed sockets abort their operations; wait (briefly) for those completions so that no OVERLAPPED is
        // freed while Windows may still write to it. Blocks still in use after that are leaked, not freed.
        lock (_listeners)
        {
            foreach (Listener listener in _listeners)
            {
                for (int i = 0; i < AcceptsPerListener; i++)
                {
                    if (listener.Pending[i] != Winsock.INVALID_SOCKET)
                        Winsock.closesocket(listener.Pending[i]);
                }
            }
        }

        long deadline = Now + 1000;
        while (_inFlight > 0 && Now < deadline)
        {
            uint removed;
            if (Iocp.GetQueuedCompletionStatusEx(_port, _entries, MaxEntries, &removed, 50, 0) == 0)
                continue;
            for (int i = 0; i < (int)removed; i++)
            {
                if ((ulong)_entries[i].CompletionKey != WakeKey)
                    _inFlight--;
            }
        }

        Iocp.CloseHandle(_port);
        NativeMemory.Free(_entries);
        if (_inFlight > 0)
            return;
        for (int slot = 0; slot < _slotCount; slot++)
        {
            _ops[slot].Pin.Dispose();
            NativeMemory.Free(_ops[slot].Block);
        }

        foreach (Listener listener in _listeners)
            NativeMemory.Free(listener.Blocks);
    }

    private static void Check(int rc)
    {
        if (rc != 0)
            throw Winsock.LastException();
    }

    /// <summary>The overlapped state of one connection slot; reused once nothing is in flight on it.</summary>
    private struct SlotOps
    {
        /// <summary>Receive OVERLAPPED at 0, send OVERLAPPED at 32, receive WSABUF at 64, send WSABUF at 80.</summary>
        public byte* Block;
        public MemoryHandle Pin;
        public SendQueue? Parked;
        public bool ReceivePending;
        public bool SendPending;
        public bool Closed;
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
