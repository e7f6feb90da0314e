using System.Net;
using WsGen.Reactor;
using WsGen.Transport;

namespace WsGen;

/// <summary>
/// A Linux event loop over level-triggered epoll. One thread runs it (<see cref="Run"/>); every handler callback
/// runs there.
/// </summary>
/// <remarks>
/// <para>Reading: the loop has one receive buffer (<see cref="ReactorOptions.ReceiveBufferSize"/>) shared by all
/// its connections. A readable connection gets one <c>recv</c> into it (again while it comes back full, a few
/// times at most), then <see cref="IConnectionHandler.OnData"/> with the bytes read.</para>
/// <para>Writing: while a callback runs for connection X, writes to X gather in the loop's cork buffer and go out
/// with one <c>send</c> when the callback returns. Writes to another connection go straight to the socket. What a
/// socket does not take waits in a pooled per-connection queue, and the loop sends it when the socket is writable,
/// then calls <see cref="IConnectionHandler.OnWritable"/>. While more than
/// <see cref="ReactorOptions.PauseReadingThreshold"/> bytes wait the loop stops reading the connection; a write
/// that would make them exceed <see cref="ReactorOptions.MaxBackpressure"/> aborts it.</para>
/// <para>Closing: <see cref="INetConn.Close"/> flushes, shuts down the sending side, discards input until the
/// peer's end of stream (so that unread input does not turn the close into a reset that could destroy the last
/// bytes sent) or <see cref="ReactorOptions.LingerTimeout"/>, then closes. A peer's end of stream or a socket
/// error closes the connection at once, dropping what waits. <see cref="IConnectionHandler.OnClose"/> runs once,
/// after the callback in which the connection ended.</para>
/// <para>Handler exceptions are not caught: they end <see cref="Run"/>.</para>
/// <para>The state machine is shared with the kqueue and IOCP loops
/// (<see cref="NativeLoop"/>); this class supplies epoll, an eventfd wake-up and Linux sockets.</para>
/// </remarks>
public sealed class EpollReactor : IServerReactor
{
    private readonly EpollLoop _loop;

    /// <summary>A loop that calls <paramref name="handler"/>, with <paramref name="options"/> or the defaults.</summary>
    public EpollReactor(IConnectionHandler handler, ReactorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!IsSupported)
            throw new PlatformNotSupportedException("EpollReactor needs Linux.");
        _loop = new EpollLoop(handler, options);
    }

    /// <summary>True on Linux, where epoll exists.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <inheritdoc/>
    public int ConnectionCount => _loop.ConnectionCount;

    /// <summary>How many times accepting paused because the process ran out of descriptors or memory (for tests).</summary>
    internal int AcceptPauses => _loop.AcceptPauses;

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

    /// <summary>Closes the listeners, every remaining descriptor (without callbacks) and the epoll instance.
    /// Call it after <see cref="Run"/> returned.</summary>
    public void Dispose() => _loop.Dispose();
}
