using System.Net;
using WsGen.Native;
using WsGen.Reactor;
using WsGen.Transport;

namespace WsGen.Tests;

/// <summary>
/// The backend of <see cref="FakeReactor"/>: connections over any <see cref="INetConn"/> (one end of
/// <see cref="WsGen.Transport.InMemoryConn.CreatePair"/>, or a <see cref="SocketConn"/> its listeners accepted), polled
/// in turn. A turn accepts what waits, reads what each connection has and sends what waits, so the handler runs
/// through the same <see cref="ConnectionCore{TBackend}"/> as on the real loops. In memory there is no linger: a
/// graceful close ends the connection once its bytes went out.
/// </summary>
internal readonly unsafe struct FakeBackend : ILoopBackend<FakeBackend>
{
    private readonly ReactorOptions _options;

    internal FakeBackend(ReactorOptions options)
    {
        _options = options;
        State = new FakeState();
    }

    /// <summary>What the fake keeps across calls.</summary>
    internal FakeState State { get; }

    public int CorkSize => _options.SendBufferSize;

    public void Starting(ConnectionCore<FakeBackend> core)
    {
    }

    /// <summary>Sends what waits and reads what arrived, connection by connection, in registration order. While it
    /// runs (<see cref="IReactor.Run"/>) and nothing moved, it naps a millisecond instead of waiting for an event.</summary>
    public void Poll(ConnectionCore<FakeBackend> core, int timeoutMilliseconds)
    {
        core.WakeConsumed();
        for (int i = 0; i < State.Listeners.Count && State.Accepting; i++)
            core.AcceptAll(i);
        foreach (LoopConnection<FakeBackend> conn in State.Connections.ToArray())
        {
            if (conn.Waiting is not null)
                core.Writable(conn);
            core.Readable(conn, hangUp: false);
            core.DeliverCloses();
        }

        if (!State.Progressed && timeoutMilliseconds > 0)
            Thread.Sleep(1);
    }

    public void Signal()
    {
    }

    public void Stopped(ConnectionCore<FakeBackend> core)
    {
    }

    public void Dispose()
    {
    }

    /// <summary>A real listener, polled every turn: conformance tests serve real clients through the fake.</summary>
    public IPEndPoint Listen(ConnectionCore<FakeBackend> core, IPEndPoint endPoint)
    {
        var listener = new SocketListener(endPoint, _options.Backlog, _options.ReusePort);
        State.Listeners.Add(listener);
        return listener.LocalEndPoint;
    }

    public bool TryAccept(int listener, out int handle, out PeerAddress peer)
    {
        handle = -1;
        peer = default;
        if (State.Listeners[listener].Fd < 0 || !State.Listeners[listener].TryAccept(out handle, out peer))
            return false;
        State.Progressed = true;
        return true;
    }

    public int SlotFor(int handle)
    {
        int slot = State.Slots.Take();
        if (slot == State.Inner.Length)
            Array.Resize(ref State.Inner, slot * 2);
        return slot;
    }

    public void SetAccepting(ConnectionCore<FakeBackend> core, bool accepting) => State.Accepting = accepting;

    public void CloseListeners()
    {
        foreach (SocketListener listener in State.Listeners)
            listener.Dispose();
    }

    public object TakeOver(INetConn conn) => conn;

    public void AddTakenOver(ConnectionCore<FakeBackend> core, object state) => Add(core, (INetConn)state);

    /// <summary>Adds a connection over <paramref name="inner"/> (OnOpen runs); null when it ended at once.</summary>
    internal LoopConnection<FakeBackend>? Add(ConnectionCore<FakeBackend> core, INetConn inner, int handle = -1)
    {
        int slot = SlotFor(handle);
        State.Inner[slot] = inner;
        return core.Add(handle, slot, listener: -1, default);
    }

    public void DropTakenOver(object state) => ((INetConn)state).Close();

    public bool Open(ConnectionCore<FakeBackend> core, LoopConnection<FakeBackend> conn)
    {
        State.Inner[conn.Slot] ??= new SocketConn(conn.Handle);
        State.Connections.Add(conn);
        return true;
    }

    /// <summary>Nothing to arm: every turn looks at every connection.</summary>
    public void UpdateInterest(ConnectionCore<FakeBackend> core, LoopConnection<FakeBackend> conn)
    {
    }

    public int Receive(LoopConnection<FakeBackend> conn, byte* buffer, int length)
    {
        int n;
        try
        {
            n = State.Inner[conn.Slot]!.Read(new Span<byte>(buffer, length));
        }
        catch (IOException)
        {
            n = 0;
        }

        if (n == NetConn.WouldBlock)
            return IoResult.WouldBlock;
        State.Progressed = true;
        return n;
    }

    public int Send(ConnectionCore<FakeBackend> core, LoopConnection<FakeBackend> conn, byte* data, int length)
    {
        INetConn inner = State.Inner[conn.Slot]!;
        int total = 0;
        try
        {
            while (total < length)
            {
                int n = inner.Write(new ReadOnlySpan<byte>(data + total, length - total));
                if (n <= 0)
                    break;
                total += n;
            }
        }
        catch (IOException)
        {
            return IoResult.Failed;
        }

        State.Progressed |= total > 0;
        return total;
    }

    public int InFlightBytes(LoopConnection<FakeBackend> conn) => 0;

    public int SendCork(ConnectionCore<FakeBackend> core, LoopConnection<FakeBackend> conn, ref byte* cork, int length)
        => Send(core, conn, cork, length);

    /// <summary>A socket it accepted lingers as on the real loops; in memory there is no half-close, and the
    /// connection ends once flushed.</summary>
    public bool ShutdownSend(ConnectionCore<FakeBackend> core, LoopConnection<FakeBackend> conn)
        => State.Inner[conn.Slot] is SocketConn && Libc.shutdown(conn.Handle, Libc.SHUT_WR) == 0;

    public void Close(ConnectionCore<FakeBackend> core, LoopConnection<FakeBackend> conn)
    {
        State.Inner[conn.Slot]!.Close();
        State.Connections.Remove(conn);
        State.Progressed = true;
        core.ReleaseSlot(conn);
        State.Inner[conn.Slot] = null;
        State.Slots.Return(conn.Slot);
    }

    public void CloseAtDispose(LoopConnection<FakeBackend> conn) => State.Inner[conn.Slot]!.Close();

    /// <summary>The fake's connections in registration order, the connection under each slot, and whether the
    /// current turn moved anything.</summary>
    internal sealed class FakeState
    {
        public readonly List<LoopConnection<FakeBackend>> Connections = [];
        public readonly List<SocketListener> Listeners = [];
        public readonly SlotNumbers Slots = new();
        public INetConn?[] Inner = new INetConn?[16];
        public bool Progressed;
        public bool Accepting = true;
    }
}
