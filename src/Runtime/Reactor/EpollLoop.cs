using System.Net;
using WsGen.Native;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>The epoll backend of <see cref="EpollReactor"/>: level-triggered epoll, an eventfd to wake up, Linux
/// sockets.</summary>
internal sealed unsafe class EpollLoop : NativeLoop
{
    private const int MaxEvents = 256;
    private const ulong ListenerTag = 1UL << 32;
    private const ulong WakeTag = 2UL << 32;

    private readonly int _epollFd;
    private readonly int _wakeFd;
    private readonly byte* _events;
    private readonly List<SocketListener> _listeners = [];

    internal EpollLoop(IConnectionHandler handler, ReactorOptions? options)
        : base(handler, options)
    {
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

        _events = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)(MaxEvents * Libc.EpollEventSize));
    }

    protected override void Poll(int timeoutMilliseconds)
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
            Dispatch(Libc.EpollEvents(_events, i), Libc.EpollData(_events, i));
            DeliverCloses();
        }
    }

    private void Dispatch(uint events, ulong data)
    {
        if (data == WakeTag)
        {
            ulong value;
            Libc.read(_wakeFd, &value, sizeof(ulong));
            WakeConsumed();
            return;
        }

        if ((data & ListenerTag) != 0)
        {
            AcceptAll((int)(uint)data);
            return;
        }

        NativeConn? conn = Lookup((int)(uint)data);
        if (conn is null)
            return;
        if ((events & Libc.EPOLLOUT) != 0)
            HandleWritable(conn);
        if ((events & (Libc.EPOLLIN | Libc.EPOLLERR | Libc.EPOLLHUP)) != 0)
            HandleReadable(conn, (events & (Libc.EPOLLERR | Libc.EPOLLHUP)) != 0);
    }

    protected override void Signal()
    {
        ulong one = 1;
        Libc.write(_wakeFd, &one, sizeof(ulong));
    }

    protected override bool Watch(NativeConn conn)
        => Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_ADD, (int)conn.Socket, Libc.EPOLLIN, (uint)conn.Slot) >= 0;

    protected override bool ChangeInterest(NativeConn conn, Interest wanted)
    {
        uint events = ((wanted & Interest.Read) != 0 ? Libc.EPOLLIN : 0) | ((wanted & Interest.Write) != 0 ? Libc.EPOLLOUT : 0);
        return Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_MOD, (int)conn.Socket, events, (uint)conn.Slot) >= 0;
    }

    protected override int Receive(nint socket, byte* buffer, int length)
    {
        while (true)
        {
            nint n = Libc.recv((int)socket, buffer, (nuint)length, 0);
            if (n >= 0)
                return (int)n;
            int errno = Errno.Last;
            if (errno == Errno.EINTR)
                continue;
            return errno == Errno.EAGAIN ? WouldBlock : Failed;
        }
    }

    protected override int Send(nint socket, byte* data, int length)
    {
        while (true)
        {
            nint n = Libc.send((int)socket, data, (nuint)length, Libc.MSG_NOSIGNAL);
            if (n >= 0)
                return (int)n;
            int errno = Errno.Last;
            if (errno == Errno.EINTR)
                continue;
            return errno == Errno.EAGAIN ? WouldBlock : Failed;
        }
    }

    protected override bool ShutdownSend(nint socket) => Libc.shutdown((int)socket, Libc.SHUT_WR) == 0;

    protected override void CloseSocket(NativeConn conn) => Libc.close((int)conn.Socket);

    protected override void CloseRaw(nint socket) => Libc.close((int)socket);

    protected override int SlotOf(nint socket) => (int)socket;

    protected override void ConfigureAccepted(nint socket)
    {
        if (Options.SocketSendBufferSize > 0)
            Libc.SetIntOption((int)socket, Libc.SOL_SOCKET, Libc.SO_SNDBUF, Options.SocketSendBufferSize);
        if (Options.SocketReceiveBufferSize > 0)
            Libc.SetIntOption((int)socket, Libc.SOL_SOCKET, Libc.SO_RCVBUF, Options.SocketReceiveBufferSize);
    }

    protected override IPEndPoint OpenListener(IPEndPoint endPoint)
    {
        var listener = new SocketListener(endPoint, Options.Backlog, Options.ReusePort);
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

    protected override bool TryAccept(int listenerIndex, out nint socket)
    {
        SocketListener listener;
        lock (_listeners)
            listener = _listeners[listenerIndex];
        socket = -1;
        if (listener.Fd < 0 || !listener.TryAccept(out int fd))
            return false;
        socket = fd;
        return true;
    }

    protected override void SetListenersWatched(bool watched)
    {
        uint events = watched ? Libc.EPOLLIN : 0;
        lock (_listeners)
        {
            for (int i = 0; i < _listeners.Count; i++)
            {
                if (_listeners[i].Fd >= 0)
                    Libc.EpollControl(_epollFd, Libc.EPOLL_CTL_MOD, _listeners[i].Fd, events, ListenerTag | (uint)i);
            }
        }
    }

    protected override void CloseListeners()
    {
        lock (_listeners)
        {
            foreach (SocketListener listener in _listeners)
                listener.Dispose();
        }
    }

    protected override nint DetachRegistered(INetConn conn)
    {
        if (conn is not SocketConn socketConn)
            throw new NotSupportedException($"EpollReactor registers socket descriptors ({nameof(SocketConn)}), not {conn.GetType().Name}.");
        return socketConn.Detach();
    }

    protected override void DisposeBackend()
    {
        Libc.close(_wakeFd);
        Libc.close(_epollFd);
        System.Runtime.InteropServices.NativeMemory.Free(_events);
    }
}
