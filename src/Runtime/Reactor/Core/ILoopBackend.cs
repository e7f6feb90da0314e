using System.Net;
using WsGen.Native;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// What a loop's platform supplies to <see cref="ConnectionCore{TBackend}"/>: waiting for events, the wake-up,
/// listeners, and the system calls on one connection. A backend is a struct given to the core as its type parameter,
/// so every call below is a direct (inlinable) call, never a virtual one.
/// </summary>
/// <remarks>
/// <para>Three shapes of backend fit this contract. A readiness backend (epoll, kqueue) reports a readable socket
/// with <see cref="ConnectionCore{TBackend}.Readable"/> and a writable one with
/// <see cref="ConnectionCore{TBackend}.Writable"/>, and its <see cref="Send"/> and <see cref="Receive"/> are the
/// non-blocking system calls. A backend that learns readability from a zero-byte receive and sends what waits
/// asynchronously from the connection's queue (IOCP, the portable sockets loop) reports the end of such a send with
/// <see cref="ConnectionCore{TBackend}.QueueSent"/>. A completion backend (io_uring) hands received bytes to
/// <see cref="ConnectionCore{TBackend}.Received"/>; its <see cref="Send"/> copies bytes into a send it submits,
/// marks the connection <see cref="ConnFlags.SendBusy"/> and reports the end with
/// <see cref="ConnectionCore{TBackend}.SendCompleted"/>.</para>
/// <para>Every method runs on the loop thread except <see cref="Signal"/>, <see cref="Listen"/>,
/// <see cref="CloseListeners"/> and <see cref="TakeOver"/>, which may be called from any thread.</para>
/// </remarks>
/// <typeparam name="TSelf">The backend itself.</typeparam>
internal unsafe interface ILoopBackend<TSelf>
    where TSelf : struct, ILoopBackend<TSelf>
{
    /// <summary>Bytes of the loop's cork buffer: the most that gathers for one connection before it is flushed.</summary>
    int CorkSize { get; }

    // ---- the loop ---------------------------------------------------------------------------------------------

    /// <summary>On the loop thread, before the first turn.</summary>
    void Starting(ConnectionCore<TSelf> core);

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> for events and reports each one to the core.
    /// Throws <see cref="IOException"/> when waiting itself failed.</summary>
    void Poll(ConnectionCore<TSelf> core, int timeoutMilliseconds);

    /// <summary>Wakes a loop blocked in <see cref="Poll"/>; from any thread. The backend calls
    /// <see cref="ConnectionCore{TBackend}.WakeConsumed"/> when it sees the wake-up.</summary>
    void Signal();

    /// <summary>The loop stopped and every connection was finished: what the backend does last on the loop thread
    /// (for example waiting for the kernel to end the operations it still holds).</summary>
    void Stopped(ConnectionCore<TSelf> core);

    /// <summary>Releases the backend's handles and memory, after the core closed every connection.</summary>
    void Dispose();

    // ---- listening and accepting ------------------------------------------------------------------------------

    /// <summary>Opens a listener on <paramref name="endPoint"/> and starts accepting on it; returns the bound
    /// endpoint. Any thread (the core posts to the loop what must run there).</summary>
    IPEndPoint Listen(ConnectionCore<TSelf> core, IPEndPoint endPoint);

    /// <summary>Accepts one pending connection of listener <paramref name="listener"/> (readiness backends, through
    /// <see cref="ConnectionCore{TBackend}.AcceptAll"/>); false when none is pending. Throws
    /// <see cref="System.Net.Sockets.SocketException"/> when out of descriptors or memory. <paramref name="peer"/> is
    /// the remote address the accept itself reported.</summary>
    bool TryAccept(int listener, out int handle, out PeerAddress peer);

    /// <summary>The table slot for a new connection's <paramref name="handle"/>: the descriptor itself, or a slot of
    /// the backend's own numbering.</summary>
    int SlotFor(int handle);

    /// <summary>Stops accepting for a while (false), or accepts again (true).</summary>
    void SetAccepting(ConnectionCore<TSelf> core, bool accepting);

    /// <summary>Closes every listener. Idempotent, any thread.</summary>
    void CloseListeners();

    /// <summary>Takes over the socket of a connection given to <see cref="IReactor.Register"/>, or throws
    /// <see cref="NotSupportedException"/>. Any thread.</summary>
    object TakeOver(INetConn conn);

    /// <summary>Adds a connection taken over by <see cref="TakeOver"/>, on the loop thread.</summary>
    void AddTakenOver(ConnectionCore<TSelf> core, object state);

    /// <summary>Closes the socket of a connection taken over that will never be added.</summary>
    void DropTakenOver(object state);

    // ---- one connection ---------------------------------------------------------------------------------------

    /// <summary>Starts serving a new connection (socket options, registration with the poller, the first receive);
    /// false when the platform refused, and the core then closes it.</summary>
    bool Open(ConnectionCore<TSelf> core, LoopConnection<TSelf> conn);

    /// <summary>The connection's needs changed: it should be read when <see cref="ConnectionCore{TBackend}.WantsInput"/>
    /// says so, and bytes wait in <see cref="LoopConnection{TBackend}.Waiting"/> when it is not null. Called after
    /// every event of the connection and after every change; a backend keeps what it last asked the platform for,
    /// so that an unchanged need costs a comparison.</summary>
    void UpdateInterest(ConnectionCore<TSelf> core, LoopConnection<TSelf> conn);

    /// <summary>One non-blocking receive: the byte count (0 at the peer's end of stream),
    /// <see cref="IoResult.WouldBlock"/> or <see cref="IoResult.Failed"/>. Readiness backends only.</summary>
    int Receive(LoopConnection<TSelf> conn, byte* buffer, int length);

    /// <summary>Hands bytes to the socket: the count taken (0 when it would block, or while an asynchronous send is
    /// in flight), or <see cref="IoResult.Failed"/>.</summary>
    int Send(ConnectionCore<TSelf> core, LoopConnection<TSelf> conn, byte* data, int length);

    /// <summary>Bytes of an asynchronous send in flight that the socket has not taken yet (0 for backends whose
    /// sends are synchronous or go out from the waiting queue itself).</summary>
    int InFlightBytes(LoopConnection<TSelf> conn);

    /// <summary>As <see cref="Send"/>, for the bytes of the loop's cork. A completion backend may keep the whole
    /// buffer as its send buffer and give the core a fresh one in <paramref name="cork"/>.</summary>
    int SendCork(ConnectionCore<TSelf> core, LoopConnection<TSelf> conn, ref byte* cork, int length);

    /// <summary>Shuts down the sending side; false when that failed.</summary>
    bool ShutdownSend(ConnectionCore<TSelf> core, LoopConnection<TSelf> conn);

    /// <summary>Closes the connection's socket; the core already marked it closed and queued its OnClose. The backend
    /// calls <see cref="ConnectionCore{TBackend}.ReleaseSlot"/> once nothing refers to the connection's slot any
    /// more: at once, or when the platform reports the end of the operations still in flight.</summary>
    void Close(ConnectionCore<TSelf> core, LoopConnection<TSelf> conn);

    /// <summary>When the loop is disposed, for every connection still in the table (open, or closed with operations
    /// in flight): closes its socket unless <see cref="Close"/> did, without any callback.</summary>
    void CloseAtDispose(LoopConnection<TSelf> conn);
}
