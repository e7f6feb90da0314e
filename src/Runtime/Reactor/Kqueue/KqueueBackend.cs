using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using WsGen.Native;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>The kqueue backend of <see cref="KqueueReactor"/>: level-triggered EVFILT_READ/EVFILT_WRITE filters
/// (enabled and disabled as the core's needs change), an EVFILT_USER event to wake up, non-blocking BSD sockets. A
/// connection's slot is its descriptor.</summary>
[SupportedOSPlatform("macos")]
[SupportedOSPlatform("freebsd")]
internal readonly unsafe struct KqueueBackend : ILoopBackend<KqueueBackend>
{
    private const int MaxEvents = 256;

    /// <summary>The ident of the EVFILT_USER wake-up event (its own namespace: it is no descriptor).</summary>
    private const nuint WakeIdent = 1;

    private readonly ReactorOptions _options;
    private readonly int _kq;
    private readonly byte* _events;
    private readonly int _inet6;
    private readonly List<int> _listeners;

    internal KqueueBackend(ReactorOptions options)
    {
        _options = options;
        _listeners = [];
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

    public int CorkSize => _options.SendBufferSize;

    // ---- the loop ---------------------------------------------------------------------------------------------

    public void Starting(ConnectionCore<KqueueBackend> core)
    {
    }

    public void Poll(ConnectionCore<KqueueBackend> core, int timeoutMilliseconds)
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
                core.WakeConsumed();
                continue;
            }

            if (e.UData != 0)
            {
                core.AcceptAll((int)e.UData - 1);
            }
            else if (core.Lookup((int)e.Ident) is { } conn)
            {
                // A write filter with EV_EOF means the peer is gone: the next send fails and finishes the connection.
                if ((e.Flags & Kqueue.EV_ERROR) != 0)
                    core.Readable(conn, hangUp: true);
                else if (e.Filter == Kqueue.EVFILT_WRITE)
                    core.Writable(conn);
                else
                    core.Readable(conn, hangUp: false);
            }

            core.DeliverCloses();
        }
    }

    public void Signal() => Kqueue.Change(_kq, WakeIdent, Kqueue.EVFILT_USER, 0, Kqueue.NOTE_TRIGGER, 0);

    public void Stopped(ConnectionCore<KqueueBackend> core)
    {
    }

    public void Dispose()
    {
        Libc.close(_kq);
        NativeMemory.Free(_events);
    }

    // ---- listening and accepting ------------------------------------------------------------------------------

    public IPEndPoint Listen(ConnectionCore<KqueueBackend> core, IPEndPoint endPoint)
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
            if (_options.ReusePort)
                Check(Libc.SetIntOption(fd, Bsd.SOL_SOCKET, Bsd.ReusePortOption, 1));
            fixed (byte* p = address)
                Check(Libc.bind(fd, p, (uint)length));
            Check(Libc.listen(fd, _options.Backlog <= 0 ? 128 : _options.Backlog));

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

    public bool TryAccept(int listener, out int handle, out PeerAddress peer)
    {
        int listenFd;
        lock (_listeners)
            listenFd = _listeners[listener];
        handle = -1;
        peer = default;
        SockAddr address = default;
        while (listenFd >= 0)
        {
            uint length = SockAddr.Size;
            int fd = Bsd.accept(listenFd, (byte*)&address, &length);
            if (fd >= 0)
            {
                if (Bsd.SetNonBlockingCloseOnExec(fd) < 0)
                {
                    Libc.close(fd);
                    continue;
                }

                handle = fd;
                peer = length >= SockAddr.InetLength ? PeerAddress.From(BsdSockAddr.ToEndPoint(address, _inet6)) : default;
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

    public int SlotFor(int handle) => handle;

    public void SetAccepting(ConnectionCore<KqueueBackend> core, bool accepting)
    {
        lock (_listeners)
        {
            for (int i = 0; i < _listeners.Count; i++)
            {
                if (_listeners[i] >= 0)
                    Kqueue.Change(_kq, (nuint)_listeners[i], Kqueue.EVFILT_READ, accepting ? Kqueue.EV_ENABLE : Kqueue.EV_DISABLE, 0, i + 1);
            }
        }
    }

    public void CloseListeners()
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

    public object TakeOver(INetConn conn)
    {
        if (conn is not SocketConn socketConn)
            throw new NotSupportedException($"KqueueReactor registers socket descriptors ({nameof(SocketConn)}), not {conn.GetType().Name}.");
        int fd = socketConn.Detach();
        Bsd.SetNonBlockingCloseOnExec(fd);
        return fd;
    }

    public void AddTakenOver(ConnectionCore<KqueueBackend> core, object state) => core.Add((int)state, (int)state, listener: -1, default);

    public void DropTakenOver(object state) => Libc.close((int)state);

    // ---- one connection ---------------------------------------------------------------------------------------

    /// <summary>No SIGPIPE (SO_NOSIGPIPE), no Nagle, the configured buffer sizes; a read filter, and a write filter
    /// added disabled.</summary>
    public bool Open(ConnectionCore<KqueueBackend> core, LoopConnection<KqueueBackend> conn)
    {
        int fd = conn.Handle;
        Libc.SetIntOption(fd, Bsd.SOL_SOCKET, Bsd.SO_NOSIGPIPE, 1);
        Libc.SetIntOption(fd, Bsd.IPPROTO_TCP, Bsd.TCP_NODELAY, 1);
        if (_options.SocketSendBufferSize > 0)
            Libc.SetIntOption(fd, Bsd.SOL_SOCKET, Bsd.SO_SNDBUF, _options.SocketSendBufferSize);
        if (_options.SocketReceiveBufferSize > 0)
            Libc.SetIntOption(fd, Bsd.SOL_SOCKET, Bsd.SO_RCVBUF, _options.SocketReceiveBufferSize);

        byte* changes = stackalloc byte[2 * sizeof(KEventFreeBsd)];
        Kqueue.Set(changes, 0, (nuint)fd, Kqueue.EVFILT_READ, Kqueue.EV_ADD, 0, 0);
        Kqueue.Set(changes, 1, (nuint)fd, Kqueue.EVFILT_WRITE, Kqueue.EV_ADD | Kqueue.EV_DISABLE, 0, 0);
        conn.Flags |= ConnFlags.WatchRead;
        return Kqueue.kevent(_kq, changes, 2, null, 0, null) >= 0;
    }

    public void UpdateInterest(ConnectionCore<KqueueBackend> core, LoopConnection<KqueueBackend> conn)
    {
        ConnFlags wanted = (ConnectionCore<KqueueBackend>.WantsInput(conn) ? ConnFlags.WatchRead : 0)
            | (conn.Waiting is not null ? ConnFlags.WatchWrite : 0);
        ConnFlags changed = wanted ^ (conn.Flags & (ConnFlags.WatchRead | ConnFlags.WatchWrite));
        if (changed == 0)
            return;
        byte* changes = stackalloc byte[2 * sizeof(KEventFreeBsd)];
        int count = 0;
        var fd = (nuint)conn.Handle;
        if ((changed & ConnFlags.WatchRead) != 0)
            Kqueue.Set(changes, count++, fd, Kqueue.EVFILT_READ, (wanted & ConnFlags.WatchRead) != 0 ? Kqueue.EV_ENABLE : Kqueue.EV_DISABLE, 0, 0);
        if ((changed & ConnFlags.WatchWrite) != 0)
            Kqueue.Set(changes, count++, fd, Kqueue.EVFILT_WRITE, (wanted & ConnFlags.WatchWrite) != 0 ? Kqueue.EV_ENABLE : Kqueue.EV_DISABLE, 0, 0);
        if (Kqueue.kevent(_kq, changes, count, null, 0, null) < 0)
        {
            core.Finish(conn);
            return;
        }

        conn.Flags = (conn.Flags & ~(ConnFlags.WatchRead | ConnFlags.WatchWrite)) | wanted;
    }

    public int Receive(LoopConnection<KqueueBackend> conn, byte* buffer, int length)
        => IoResult.Receive(conn.Handle, buffer, length, Bsd.EAGAIN);

    /// <summary>SO_NOSIGPIPE was set when the connection was opened.</summary>
    public int Send(ConnectionCore<KqueueBackend> core, LoopConnection<KqueueBackend> conn, byte* data, int length)
        => IoResult.Send(conn.Handle, data, length, 0, Bsd.EAGAIN);

    /// <summary>Sends are synchronous, or go out from the waiting queue itself: nothing else is in flight.</summary>
    public int InFlightBytes(LoopConnection<KqueueBackend> conn) => 0;

    public int SendCork(ConnectionCore<KqueueBackend> core, LoopConnection<KqueueBackend> conn, ref byte* cork, int length)
        => IoResult.Send(conn.Handle, cork, length, 0, Bsd.EAGAIN);

    public bool ShutdownSend(ConnectionCore<KqueueBackend> core, LoopConnection<KqueueBackend> conn)
        => Libc.shutdown(conn.Handle, Bsd.SHUT_WR) == 0;

    /// <summary>Closing the descriptor also removes its filters from the kqueue.</summary>
    public void Close(ConnectionCore<KqueueBackend> core, LoopConnection<KqueueBackend> conn)
    {
        core.ReleaseSlot(conn);
        Libc.close(conn.Handle);
        conn.Handle = -1;
        conn.Flags &= ~(ConnFlags.WatchRead | ConnFlags.WatchWrite);
    }

    public void CloseAtDispose(LoopConnection<KqueueBackend> conn)
    {
        if (conn.Handle >= 0)
            Libc.close(conn.Handle);
        conn.Handle = -1;
    }

    private static void Check(int rc)
    {
        if (rc < 0)
            throw Bsd.SocketException(Marshal.GetLastPInvokeError());
    }
}
