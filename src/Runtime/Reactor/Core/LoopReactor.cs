using System.Net;

namespace WsGen.Reactor;

/// <summary>A named loop (<see cref="EpollReactor"/>, <see cref="IoUringReactor"/> ...): the
/// <see cref="ConnectionCore{TBackend}"/> over that loop's backend, behind the reactor contract. Forwarding happens
/// per call of the contract, never per message: connections talk to the core directly.</summary>
/// <typeparam name="TBackend">The loop's backend.</typeparam>
internal abstract class LoopReactor<TBackend> : IServerReactor
    where TBackend : struct, ILoopBackend<TBackend>
{
    /// <summary>A loop that calls <paramref name="handler"/> with <paramref name="options"/> over
    /// <paramref name="backend"/>.</summary>
    private protected LoopReactor(IConnectionHandler handler, ReactorOptions options, TBackend backend)
        => Core = new ConnectionCore<TBackend>(handler, options, backend);

    /// <summary>The loop's core.</summary>
    internal ConnectionCore<TBackend> Core { get; }

    /// <inheritdoc/>
    public int ConnectionCount => Core.ConnectionCount;

    /// <inheritdoc/>
    public long BackpressureBytes => Core.BackpressureBytes;

    /// <inheritdoc/>
    public virtual bool IsLoopThread => Core.IsLoopThread;

    /// <summary>How many times accepting paused because the process ran out of descriptors or memory (for tests).</summary>
    internal int AcceptPauses => Core.AcceptPauses;

    /// <inheritdoc/>
    public IPEndPoint Listen(IPEndPoint endPoint, Func<IReactorConn, Transport.IByteTransform>? transform = null) => Core.Listen(endPoint, transform);

    /// <inheritdoc/>
    public virtual void Register(INetConn conn) => Core.Register(conn);

    /// <inheritdoc/>
    public void Post(Action<object?> action, object? state) => Core.Post(action, state);

    /// <inheritdoc/>
    public void Run(CancellationToken cancellationToken) => Core.Run(cancellationToken);

    /// <summary>Closes the listeners, every remaining socket (without callbacks) and the loop's resources.
    /// Call it after <see cref="Run"/> returned.</summary>
    public void Dispose() => Core.Dispose();
}
