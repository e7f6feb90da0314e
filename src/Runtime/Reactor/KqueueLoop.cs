using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using WsGen.Native;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>The kqueue backend of <see cref="KqueueReactor"/>: level-triggered EVFILT_READ/EVFILT_WRITE filters
/// (enabled and disabled as interest changes), an EVFILT_USER event to wake up, BSD sockets.</summary>
[SupportedOSPlatform("macos")]
[SupportedOSPlatform("freebsd")]
internal sealed unsafe class KqueueLoop : NativeLoop
{
    private const int MaxEvents = 256;

    /// <summary>The ident of the EVFILT_USER wake-up event (its own namespace: it is no descriptor).</summary>
    private const nuint WakeIdent = 1;

    private readonly int _kq;
    private readonly byte* _events;
    private readonly int _inet6;
    private readonly List<int> _listeners = [];

    internal KqueueLoop(IConnectionHandler handler, ReactorOptions? options)
        : base(handler, options)
    {
        _inet6 = Bsd.AF_INET6;
        _kq = Kqueue.kqueue();
        if (_kq < 0)
            throw Bsd.SocketException(Marshal.GetLastPInvokeError());
        if (Kqueue.Change(_kq, WakeIdent, Kqueue.EVFILT_USER, Kqueue.EV_ADD | Kqueue.EV_CLEAR, 0, 0) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Libc.close(_kq);
            throw Bsd.SocketException(errno);
        }

        _events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * Kqueue.KEventSize));
    }

    protected override void Poll(int timeoutMilliseconds)
    {
        var timeout = new TimeSpec
        {
            Seconds = timeoutMilliseconds / 1000,
            Nanoseconds = (timeoutMilliseconds % 1000) * 1_000_000L,
        };
        int ready = Kqueue.kevent(_kq, null, 0, _events, MaxEvents, &timeout);
        if (ready < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Bsd.EINTR)
                throw Bsd.IOException("kevent", errno);
            return;
        }

        short user = Kqueue.EVFILT_USER;
        for (int i = 0; i < ready; i++)
        {
            ref KEventMac e = ref Kqueue.At(_events, i);
            if (e.Filter == user)
            {
                WakeConsumed();
                continue;
            }

            if (e.UData != 0)
            {
                AcceptAll((int)e.UData - 1);
            }
            else if (Lookup((int)e.Ident) is { } conn)
            {
                // A write filter with EV_EOF means the peer is gone: the next send fails and finishes the connection.
                if ((e.Flags & Kqueue.EV_ERROR) != 0)
                    HandleReadable(conn, hangUp: true);
                else if (e.Filter == Kqueue.EVFILT_WRITE)
                    HandleWritable(conn);
                else
                    HandleReadable(conn, hangUp: false);
            }

            DeliverCloses();
        }
    }

    protected override void Signal()
        => Kqueue.Change(_kq, WakeIdent, Kqueue.EVFILT_USER, 0, Kqueue.NOTE_TRIGGER, 0);

    protected override bool Watch(NativeConn conn)
    {
        byte* changes = stackalloc byte[2 * sizeof(KEventFreeBsd)];
        var fd = (nuint)conn.Socket;
        Kqueue.Set(changes, 0, fd, Kqueue.EVFILT_READ, Kqueue.EV_ADD, 0, 0);
        Kqueue.Set(changes, 1, fd, Kqueue.EVFILT_WRITE, Kqueue.EV_ADD | Kqueue.EV_DISABLE, 0, 0);
        return Kqueue.kevent(_kq, changes, 2, null, 0, null) >= 0;
    }

    protected override bool ChangeInterest(NativeConn conn, Interest wanted)
    {
        byte* changes = stackalloc byte[2 * sizeof(KEventFreeBsd)];
        int count = 0;
        var fd = (nuint)conn.Socket;
        Interest changed = wanted ^ conn.Interest;
        if ((changed & Interest.Read) != 0)
            Kqueue.Set(changes, count++, fd, Kqueue.EVFILT_READ, (wanted & Interest.Read) != 0 ? Kqueue.EV_ENABLE : Kqueue.EV_DISABLE, 0, 0);
        if ((changed & Interest.Write) != 0)
            Kqueue.Set(changes, count++, fd, Kqueue.EVFILT_WRITE, (wanted & Interest.Write) != 0 ? Kqueue.EV_ENABLE : Kqueue.EV_DISABLE, 0, 0);
        return count == 0 || Kqueue.kevent(_kq, changes, count, null, 0, null) >= 0;
    }

    protected override int Receive(nint socket, byte* buffer, int length)
    {
        while (true)
        {
            nint n = Libc.recv((int)socket, buffer, (nuint)length, 0);
            if (n >= 0)
                return (int)n;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Bsd.EINTR)
                continue;
            return errno == Bsd.EAGAIN ? WouldBlock : Failed;
        }
    }

    protected override int Send(nint socket, byte* data, int length)
    {
        // SO_NOSIGPIPE was set when the connection was added (ConfigureAccepted).
        while (true)
        {
            nint n = Libc.send((int)socket, data, (nuint)length, 0);
            if (n >= 0)
                return (int)n;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Bsd.EINTR)
                continue;
            return errno == Bsd.EAGAIN ? WouldBlock : Failed;
        }
    }

    protected override bool ShutdownSend(nint socket) => Libc.shutdown((int)socket, Bsd.SHUT_WR) == 0;

    /// <summary>Closing the descriptor also removes its filters from the kqueue.</summary>
    protected override void CloseSocket(NativeConn conn) => Libc.close((int)conn.Socket);

    protected override void CloseRaw(nint socket) => Libc.close((int)socket);

    protected override int SlotOf(nint socket) => (int)socket;

    protected override void ConfigureAccepted(nint socket)
    {
        int fd = (int)socket;
        Libc.SetIntOption(fd, Bsd.SOL_SOCKET, Bsd.SO_NOSIGPIPE, 1);
        Libc.SetIntOption(fd, Bsd.IPPROTO_TCP, Bsd.TCP_NODELAY, 1);
        if (Options.SocketSendBufferSize > 0)
            Libc.SetIntOption(fd, Bsd.SOL_SOCKET, Bsd.SO_SNDBUF, Options.SocketSendBufferSize);
        if (Options.SocketReceiveBufferSize > 0)
            Libc.SetIntOption(fd, Bsd.SOL_SOCKET, Bsd.SO_RCVBUF, Options.SocketReceiveBufferSize);
    }

    protected override IPEndPoint OpenListener(IPEndPoint endPoint)
    {
        Span<byte> address = stackalloc byte[SockAddr.Size];
        int length = BsdSockAddr.FromEndPoint(endPoint, address, _inet6);
        int family = endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? _inet6 : Bsd.AF_INET;
        int fd = Libc.socket(family, Bsd.SOCK_STREAM, 0);
        if (fd < 0)
            throw Bsd.SocketException(Marshal.GetLastPInvokeError());
        try
        {
            Check(Bsd.SetNonBlockingCloseOnExec(fd));
            Check(Libc.SetIntOption(fd, Bsd.SOL_SOCKET, Bsd.SO_REUSEADDR, 1));
            if (Options.ReusePort)
                Check(Libc.SetIntOption(fd, Bsd.SOL_SOCKET, Bsd.ReusePortOption, 1));
            fixed (byte* p = address)
                Check(Libc.bind(fd, p, (uint)length));
            Check(Libc.listen(fd, Options.Backlog <= 0 ? 128 : Options.Backlog));

            Span<byte> bound = stackalloc byte[SockAddr.Size];
            uint boundLength = SockAddr.Size;
            fixed (byte* p = bound)
                Check(Libc.getsockname(fd, p, &boundLength));
            lock (_listeners)
            {
                Check(Kqueue.Change(_kq, (nuint)fd, Kqueue.EVFILT_READ, Kqueue.EV_ADD, 0, _listeners.Count + 1));
                _listeners.Add(fd);
            }

            return BsdSockAddr.ToEndPoint(bound, _inet6);
        }
        catch
        {
            Libc.close(fd);
            throw;
        }
    }

    protected override bool TryAccept(int listenerIndex, out nint socket)
    {
        int listenFd;
        lock (_listeners)
            listenFd = _listeners[listenerIndex];
        socket = -1;
        while (listenFd >= 0)
        {
            int fd = Bsd.accept(listenFd, null, null);
            if (fd >= 0)
            {
                if (Bsd.SetNonBlockingCloseOnExec(fd) < 0)
                {
                    Libc.close(fd);
                    continue;
                }

                socket = fd;
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            switch (errno)
            {
                case Bsd.EINTR:
                case Bsd.ECONNABORTED:
                    continue;
                case Bsd.EAGAIN:
                    return false;
                default:
                    throw Bsd.SocketException(errno);
            }
        }

        return false;
    }

    protected override void SetListenersWatched(bool watched)
    {
        lock (_listeners)
        {
            for (int i = 0; i < _listeners.Count; i++)
            {
                if (_listeners[i] >= 0)
                    Kqueue.Change(_kq, (nuint)_listeners[i], Kqueue.EVFILT_READ, watched ? Kqueue.EV_ENABLE : Kqueue.EV_DISABLE, 0, i + 1);
            }
        }
    }

    protected override void CloseListeners()
    {
        lock (_listeners)
        {
            for (int i = 0; i < _listeners.Count; i++)
            {
                if (_listeners[i] >= 0)
                {
                    Libc.close(_listeners[i]);
                    _listeners[i] = -1;
                }
            }
        }
    }

    protected override nint DetachRegistered(INetConn conn)
    {
        if (conn is not SocketConn socketConn)
            throw new NotSupportedException($"KqueueReactor registers socket descriptors ({nameof(SocketConn)}), not {conn.GetType().Name}.");
        int fd = socketConn.Detach();
        Bsd.SetNonBlockingCloseOnExec(fd);
        return fd;
    }

    protected override void DisposeBackend()
    {
        Libc.close(_kq);
        NativeMemory.Free(_events);
    }

    private static void Check(int rc)
    {
        if (rc < 0)
            throw Bsd.SocketException(Marshal.GetLastPInvokeError());
    }
}
