using System.Net;
using System.Runtime.Versioning;
using WsGen.Reactor;

namespace WsGen;

/// <summary>
/// A Windows event loop over an I/O completion port. One thread runs it (<see cref="Run"/>); every handler
/// callback runs there.
/// </summary>
/// <remarks>
/// <para>The contract is the one of <see cref="EpollReactor"/>, and so is the code that keeps it (one receive buffer
/// per loop, corked writes, backpressure, graceful close with linger, OnClose once outside callbacks, ticks, posted
/// work, shutdown with a drain deadline).</para>
/// <para>IOCP specifics: each listener keeps 16 AcceptEx calls posted. A connection waits with a zero-byte WSARecv,
/// so an idle connection holds no buffer; when it completes the loop reads with non-blocking <c>recv</c> into its
/// shared buffer. Writes go out with non-blocking <c>send</c>; bytes the socket did not take wait in the
/// connection's queue and leave with an overlapped WSASend from that queue. <see cref="Post"/> wakes the loop with
/// PostQueuedCompletionStatus. Every OVERLAPPED lives in native memory. <see cref="ReactorOptions.ReusePort"/> has
/// no effect on Windows; listeners use SO_EXCLUSIVEADDRUSE.</para>
/// </remarks>
[SupportedOSPlatform("windows")]
internal sealed class IocpReactor : IServerReactor
{
    private readonly IocpLoop _loop;

    /// <summary>A loop that calls <paramref name="handler"/>, with <paramref name="options"/> or the defaults.</summary>
    public IocpReactor(IConnectionHandler handler, ReactorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!IsSupported)
            throw new PlatformNotSupportedException("IocpReactor needs 64-bit Windows.");
        _loop = new IocpLoop(handler, options);
    }

    /// <summary>True on 64-bit Windows.</summary>
    [SupportedOSPlatformGuard("windows")]
    public static bool IsSupported => OperatingSystem.IsWindows() && Environment.Is64BitProcess;

    /// <inheritdoc/>
    public int ConnectionCount => _loop.ConnectionCount;

    /// <inheritdoc/>
    public bool IsLoopThread => _loop.IsLoopThread;

    /// <inheritdoc/>
    public IPEndPoint Listen(IPEndPoint endPoint) => _loop.Listen(endPoint);

    /// <summary>Not supported: the loop serves the connections its listeners accept.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public void Register(INetConn conn) => _loop.Register(conn);

    /// <inheritdoc/>
    public void Post(Action<object?> action, object? state) => _loop.Post(action, state);

    /// <inheritdoc/>
    public void Run(CancellationToken cancellationToken) => _loop.Run(cancellationToken);

    /// <summary>Closes the listeners, every remaining socket (without callbacks) and the completion port.
    /// Call it after <see cref="Run"/> returned.</summary>
    public void Dispose() => _loop.Dispose();
}
