using System.Net.Sockets;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The connection a <see cref="SocketReactor"/> hands to its handler: a non-blocking <see cref="Socket"/>, the
/// event args of its zero-byte receive (readiness without a buffer) and, while bytes wait, a send queue and the
/// event args that send it.
/// </summary>
internal sealed class SocketLoopConn : IReactorConn, ILifecycleConn
{
    internal readonly SocketReactor Loop;
    internal readonly Socket Socket;
    internal readonly SocketAsyncEventArgs ReceiveArgs;
    internal SocketAsyncEventArgs? SendArgs;
    internal LoopConnState State;
    internal bool ReceivePending;
    internal bool SendPending;
    internal bool ReadPaused;
    internal bool PeerClosed;
    internal SendQueue? Waiting;

    LoopConnState ILifecycleConn.State { get => State; set => State = value; }

    internal SocketLoopConn(SocketReactor loop, Socket socket, EventHandler<SocketAsyncEventArgs> completed)
    {
        Loop = loop;
        Socket = socket;
        ReceiveArgs = new SocketAsyncEventArgs { UserToken = this };
        ReceiveArgs.SetBuffer(Memory<byte>.Empty);
        ReceiveArgs.Completed += completed;
    }

    /// <inheritdoc/>
    public object? Context { get; set; }

    /// <inheritdoc/>
    public long WaitingBytes => State == LoopConnState.Closed ? 0 : Waiting?.Length ?? 0;

    /// <summary>A direct non-blocking read from the socket. The loop normally reads for the handler (see
    /// <see cref="IConnectionHandler.OnData"/>); returns 0 once the connection is closing or closed.</summary>
    public int Read(Span<byte> buffer)
    {
        if (State != LoopConnState.Open)
            return 0;
        int n = Socket.Receive(buffer, SocketFlags.None, out SocketError error);
        if (error == SocketError.Success)
            return n;
        return error is SocketError.WouldBlock or SocketError.Interrupted ? NetConn.WouldBlock : 0;
    }

    /// <summary>Corked, backpressured write; see <see cref="IReactorConn"/>.</summary>
    public int Write(ReadOnlySpan<byte> data) => Loop.Write(this, data);

    /// <summary>Graceful close; see <see cref="IReactorConn"/>.</summary>
    public void Close() => Loop.Close(this);

    /// <inheritdoc/>
    public void Abort() => Loop.Abort(this);
}
