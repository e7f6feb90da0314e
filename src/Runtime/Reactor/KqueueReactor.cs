using System.Net;
using System.Runtime.Versioning;
using WsGen.Reactor;
using WsGen.Transport;

namespace WsGen;

/// <summary>
/// A macOS and FreeBSD event loop over level-triggered kqueue. One thread runs it (<see cref="Run"/>); every
/// handler callback runs there.
/// </summary>
/// <remarks>
/// <para>The contract is the one of <see cref="EpollReactor"/>, and so is the code that keeps it (one receive buffer
/// per loop, corked writes, backpressure, graceful close with linger, OnClose once outside callbacks, ticks, posted
/// work, shutdown with a drain deadline).</para>
/// <para>kqueue specifics: each connection has an EVFILT_READ and an EVFILT_WRITE filter, added at once (the write
/// filter disabled) and then enabled or disabled as the loop's interest changes; closing the descriptor removes
/// them. <see cref="Post"/> wakes the loop with an EVFILT_USER event (NOTE_TRIGGER, EV_CLEAR). Connections get
/// SO_NOSIGPIPE (macOS has no MSG_NOSIGNAL) and TCP_NODELAY. The <c>struct kevent</c> layout is chosen at start
/// (32 bytes on macOS, 64 on FreeBSD 12 and later).</para>
/// </remarks>
[SupportedOSPlatform("macos")]
[SupportedOSPlatform("freebsd")]
internal sealed class KqueueReactor : IServerReactor
{
    private readonly KqueueLoop _loop;

    /// <summary>A loop that calls <paramref name="handler"/>, with <paramref name="options"/> or the defaults.</summary>
    public KqueueReactor(IConnectionHandler handler, ReactorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!IsSupported)
            throw new PlatformNotSupportedException("KqueueReactor needs macOS or FreeBSD (64-bit).");
        _loop = new KqueueLoop(handler, options);
    }

    /// <summary>True on 64-bit macOS and FreeBSD, where kqueue exists with the layouts this loop knows.</summary>
    [SupportedOSPlatformGuard("macos")]
    [SupportedOSPlatformGuard("freebsd")]
    public static bool IsSupported => (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()) && Environment.Is64BitProcess;

    /// <inheritdoc/>
    public int ConnectionCount => _loop.ConnectionCount;

    /// <inheritdoc/>
    public bool IsLoopThread => _loop.IsLoopThread;

    /// <inheritdoc/>
    public IPEndPoint Listen(IPEndPoint endPoint) => _loop.Listen(endPoint);

    /// <summary>Adds a connection: a <see cref="SocketConn"/>, whose descriptor the loop takes over.</summary>
    /// <exception cref="NotSupportedException"><paramref name="conn"/> is not a socket descriptor connection.</exception>
    public void Register(INetConn conn) => _loop.Register(conn);

    /// <inheritdoc/>
    public void Post(Action<object?> action, object? state) => _loop.Post(action, state);

    /// <inheritdoc/>
    public void Run(CancellationToken cancellationToken) => _loop.Run(cancellationToken);

    /// <summary>Closes the listeners, every remaining descriptor (without callbacks) and the kqueue.
    /// Call it after <see cref="Run"/> returned.</summary>
    public void Dispose() => _loop.Dispose();
}
