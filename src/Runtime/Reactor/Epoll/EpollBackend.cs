using System.Net;
using System.Runtime.InteropServices;
using WsGen.Native;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The epoll backend of <see cref="EpollReactor"/>: level-triggered readiness for the connections (EPOLLIN while the
/// core wants input, EPOLLOUT while bytes wait), the listeners and an eventfd that wakes the loop; non-blocking
/// <c>recv</c> and <c>send</c>. A connection's slot is its descriptor.
/// </summary>
internal readonly unsafe struct EpollBackend : ILoopBackend<EpollBackend>
{
    private const int MaxEvents = 256;
    private const ulong ListenerTag = 1UL << 32;
    private const ulong WakeTag = 2UL << 32;

    private readonly int _epollFd;
    private readonly int _wakeFd;
    private readonly byte* _events;
    private readonly List<SocketListener> _listeners;
    private readonly ReactorOptions _options;

    internal EpollBackend(ReactorOptions options)
    {
        _options = options;
        _listeners = [];
        _epollFd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        if (_epollFd < 0)
            Errno.ThrowSocketException();
        _wakeFd = Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (_wakeFd < 0 || Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_ADD, _wakeFd, Libc.EPOLLIN, WakeTag) < 0)
        {
            int errno = Errno.Last;
            if (_wakeFd >= 0)
                Libc.close(_wakeFd);
            Libc.close(_epollFd);
            throw Errno.SocketException(errno);
        }

        _events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * Libc.EpollEventSize));
    }

    public int CorkSize => _options.SendBufferSize;

    // ---- the loop ---------------------------------------------------------------------------------------------

    public void Starting(ConnectionCore<EpollBackend> core)
    {
    }

    public void Poll(ConnectionCore<EpollBackend> core, int timeoutMilliseconds)
    {
        int ready = Libc.epoll_wait(_epollFd, _events, MaxEvents, timeoutMilliseconds);
        if (ready < 0)
        {
            int errno = Errno.Last;
            if (errno != Errno.EINTR)
                throw Errno.IOException("epoll_wait", errno);
            return;
        }

        for (int i = 0; i < ready; i++)
        {
            uint events = Libc.EpollEvents(_events, i);
            ulong data = Libc.EpollData(_events, i);
            if (data == WakeTag)
            {
                ulong value;
                Libc.read(_wakeFd, &value, sizeof(ulong));
                core.WakeConsumed();
            }
            else if ((data & ListenerTag) != 0)
            {
                core.AcceptAll((int)(uint)data);
            }
            else if (core.Lookup((int)(uint)data) is { } conn)
            {
                if ((events & Libc.EPOLLOUT) != 0)
                    core.Writable(conn);
                if ((events & (Libc.EPOLLIN | Libc.EPOLLERR | Libc.EPOLLHUP)) != 0)
                    core.Readable(conn, (events & (Libc.EPOLLERR | Libc.EPOLLHUP)) != 0);
            }

            core.DeliverCloses();
        }
    }

    public void Signal()
    {
        ulong one = 1;
        Libc.write(_wakeFd, &one, sizeof(ulong));
    }

    public void Stopped(ConnectionCore<EpollBackend> core)
    {
    }

    public void Dispose()
    {
        Libc.close(_wakeFd);
        Libc.close(_epollFd);
        NativeMemory.Free(_events);
    }

    // ---- listening and accepting ------------------------------------------------------------------------------

    public IPEndPoint Listen(ConnectionCore<EpollBackend> core, IPEndPoint endPoint)
    {
        var listener = new SocketListener(endPoint, _options.Backlog, _options.ReusePort);
        lock (_listeners)
        {
            ulong data = ListenerTag | (uint)_listeners.Count;
            if (Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_ADD, listener.Fd, Libc.EPOLLIN, data) < 0)
            {
                int errno = Errno.Last;
                listener.Dispose();
                throw Errno.SocketException(errno);
            }

            _listeners.Add(listener);
        }

        return listener.LocalEndPoint;
    }

    public bool TryAccept(int listener, out int handle, out PeerAddress peer)
    {
        SocketListener entry;
        lock (_listeners)
            entry = _listeners[listener];
        handle = -1;
        peer = default;
        if (entry.Fd < 0 || !entry.TryAccept(out int fd, out peer))
            return false;
        handle = fd;
        return true;
    }

    public int SlotFor(int handle) => handle;

    public void SetAccepting(ConnectionCore<EpollBackend> core, bool accepting)
    {
        uint events = accepting ? Libc.EPOLLIN : 0;
        lock (_listeners)
        {
            for (int i = 0; i < _listeners.Count; i++)
            {
                if (_listeners[i].Fd >= 0)
                    Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_MOD, _listeners[i].Fd, events, ListenerTag | (uint)i);
            }
        }
    }

    public void CloseListeners()
    {
        lock (_listeners)
        {
            foreach (SocketListener listener in _listeners)
                listener.Dispose();
        }
    }

    public object TakeOver(INetConn conn)
    {
        if (conn is not SocketConn socketConn)
            throw new NotSupportedException($"EpollReactor registers socket descriptors ({nameof(SocketConn)}), not {conn.GetType().Name}.");
        return socketConn.Detach();
    }

    public void AddTakenOver(ConnectionCore<EpollBackend> core, object state) => core.Add((int)state, (int)state, listener: -1, default);

    public void DropTakenOver(object state) => Libc.close((int)state);

    // ---- one connection ---------------------------------------------------------------------------------------

    public bool Open(ConnectionCore<EpollBackend> core, LoopConnection<EpollBackend> conn)
    {
        int fd = (int)conn.Handle;
        if (_options.SocketSendBufferSize > 0)
            Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, _options.SocketSendBufferSize);
        if (_options.SocketReceiveBufferSize > 0)
            Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, _options.SocketReceiveBufferSize);
        conn.Flags |= ConnFlags.WatchRead;
        return Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_ADD, fd, Libc.EPOLLIN, (uint)conn.Slot) >= 0;
    }

    public void UpdateInterest(ConnectionCore<EpollBackend> core, LoopConnection<EpollBackend> conn)
    {
        ConnFlags wanted = (ConnectionCore<EpollBackend>.WantsInput(conn) ? ConnFlags.WatchRead : 0)
            | (conn.Waiting is not null ? ConnFlags.WatchWrite : 0);
        if (wanted == (conn.Flags & (ConnFlags.WatchRead | ConnFlags.WatchWrite)))
            return;
        uint events = ((wanted & ConnFlags.WatchRead) != 0 ? Libc.EPOLLIN : 0) | ((wanted & ConnFlags.WatchWrite) != 0 ? Libc.EPOLLOUT : 0);
        if (Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_MOD, (int)conn.Handle, events, (uint)conn.Slot) < 0)
        {
            core.Finish(conn);
            return;
        }

        conn.Flags = (conn.Flags & ~(ConnFlags.WatchRead | ConnFlags.WatchWrite)) | wanted;
    }

    public int Receive(LoopConnection<EpollBackend> conn, byte* buffer, int length)
        => IoResult.Receive((int)conn.Handle, buffer, length, Errno.EAGAIN);

    public int Send(ConnectionCore<EpollBackend> core, LoopConnection<EpollBackend> conn, byte* data, int length)
        => IoResult.Send((int)conn.Handle, data, length, Libc.MSG_NOSIGNAL, Errno.EAGAIN);

    /// <summary>Sends are synchronous, or go out from the waiting queue itself: nothing else is in flight.</summary>
    public int InFlightBytes(LoopConnection<EpollBackend> conn) => 0;

    public int SendCork(ConnectionCore<EpollBackend> core, LoopConnection<EpollBackend> conn, ref byte* cork, int length)
        => IoResult.Send((int)conn.Handle, cork, length, Libc.MSG_NOSIGNAL, Errno.EAGAIN);

    public bool ShutdownSend(ConnectionCore<EpollBackend> core, LoopConnection<EpollBackend> conn)
        => Libc.shutdown((int)conn.Handle, Libc.SHUT_WR) == 0;

    public void Close(ConnectionCore<EpollBackend> core, LoopConnection<EpollBackend> conn)
    {
        // Closing the descriptor also removes it from the epoll set; its number (the slot) may be reused at once.
        core.ReleaseSlot(conn);
        Libc.close((int)conn.Handle);
        conn.Handle = -1;
        conn.Flags &= ~(ConnFlags.WatchRead | ConnFlags.WatchWrite);
    }

    public void CloseAtDispose(LoopConnection<EpollBackend> conn)
    {
        if (conn.Handle >= 0)
            Libc.close((int)conn.Handle);
        conn.Handle = -1;
    }
}
