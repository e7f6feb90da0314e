namespace WsGen;

/// <summary>
/// An event loop over epoll, io_uring, kqueue, IOCP or .NET sockets (seed: Reactor).
/// A reactor knows descriptors, bytes and one <see cref="IConnectionHandler"/>; never WebSockets.
/// </summary>
public interface IReactor : IDisposable
{
    /// <summary>Runs the loop on the calling thread until <paramref name="cancellationToken"/> is cancelled
    /// and the handler has let every connection go (see <see cref="IConnectionHandler.OnShutdown"/>).</summary>
    void Run(CancellationToken cancellationToken);

    /// <summary>Adds a connected, non-blocking connection to the loop. Thread-safe: from another thread the
    /// registration is handed to the loop thread. The handler's <see cref="IConnectionHandler.OnOpen"/> runs on the loop.</summary>
    void Register(INetConn conn);
}

/// <summary>Work handed to a loop from other threads. Everything a handler does runs on its loop thread.</summary>
public interface IEventLoop
{
    /// <summary>True when called from the thread that runs this loop.</summary>
    bool IsLoopThread { get; }

    /// <summary>Runs <paramref name="action"/> on the loop thread at the next turn. Thread-safe.</summary>
    void Post(Action<object?> action, object? state);
}
