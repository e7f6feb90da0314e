namespace WsGen;

/// <summary>
/// An event loop over epoll, io_uring, kqueue, IOCP or .NET sockets (seed: Reactor).
/// A reactor knows descriptors, bytes and one handler of them (the server's protocol layer); never WebSockets.
/// </summary>
/// <remarks>The loops themselves are internal: a <see cref="WebSocketServer"/> makes the one
/// <see cref="WebSocketServerOptions.Loop"/> names.</remarks>
public interface IReactor : IDisposable
{
    /// <summary>Runs the loop on the calling thread until <paramref name="cancellationToken"/> is cancelled
    /// and the handler has let every connection go.</summary>
    void Run(CancellationToken cancellationToken);

    /// <summary>Adds a connected, non-blocking connection to the loop. Thread-safe: from another thread the
    /// registration is handed to the loop thread. The handler learns of the connection on the loop thread.</summary>
    void Register(INetConn conn);
}

/// <summary>Work handed to a loop from other threads. Everything a handler does runs on its loop thread.</summary>
internal interface IEventLoop
{
    /// <summary>True when called from the thread that runs this loop.</summary>
    bool IsLoopThread { get; }

    /// <summary>Runs <paramref name="action"/> on the loop thread at the next turn. Thread-safe.</summary>
    void Post(Action<object?> action, object? state);
}
