using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using WsGen.Native;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The portable backend of <see cref="SocketReactor"/>, on <see cref="System.Net.Sockets"/>. Accepts, readiness
/// (a zero-byte receive completes when a connection is readable, so an idle connection holds no buffer) and the sends
/// of waiting bytes complete asynchronously on other threads; their completions only enqueue work, which the loop
/// thread handles in <see cref="Poll"/>. Receives and first sends are non-blocking calls on the loop thread.
/// </summary>
internal readonly unsafe struct SocketsBackend : ILoopBackend<SocketsBackend>
{
    private const int MaxWorkPerTurn = 4096;

    private readonly ReactorOptions _options;
    private readonly Shared _shared;

    internal SocketsBackend(ReactorOptions options)
    {
        _options = options;
        _shared = new Shared();
    }

    public int CorkSize => _options.SendBufferSize;

    // ---- the loop ---------------------------------------------------------------------------------------------

    public void Starting(ConnectionCore<SocketsBackend> core) => _shared.Core = core;

    /// <summary>Waits on the semaphore unless completions are queued, then handles up to
    /// <see cref="MaxWorkPerTurn"/> of them.</summary>
    public void Poll(ConnectionCore<SocketsBackend> core, int timeoutMilliseconds)
    {
        if (_shared.Completions.IsEmpty && timeoutMilliseconds > 0)
            _shared.Signal.Wait(timeoutMilliseconds);
        core.WakeConsumed();
        for (int i = 0; i < MaxWorkPerTurn && _shared.Completions.TryDequeue(out Work work); i++)
        {
            Process(core, in work);
            core.DeliverCloses();
        }
    }

    public void Signal() => _shared.Signal.Release();

    public void Stopped(ConnectionCore<SocketsBackend> core)
    {
    }

    public void Dispose()
    {
        while (_shared.Completions.TryDequeue(out Work work))
        {
            if (work.Kind == WorkKind.Accepted)
                ((Socket)work.Target).Dispose();
        }
    }

    private void Process(ConnectionCore<SocketsBackend> core, in Work work)
    {
        switch (work.Kind)
        {
            case WorkKind.Accepted:
                AddSocket(core, (Socket)work.Target, work.Value);
                break;
            case WorkKind.AcceptPaused:
                _shared.PausedAccepts.Add((SocketAsyncEventArgs)work.Target);
                core.PauseAccepting();
                break;
            case WorkKind.Readable:
                var reader = (LoopConnection<SocketsBackend>)work.Target;
                reader.Flags &= ~ConnFlags.ReceivePending;
                if (reader.State == LoopConnState.Closed)
                    ReleaseSlotIfIdle(core, reader);
                else if (work.Error != SocketError.Success)
                    core.Finish(reader);
                else
                    core.Readable(reader, hangUp: false);
                break;
            case WorkKind.Sent:
                var writer = (LoopConnection<SocketsBackend>)work.Target;
                SocketIo io = IoOf(writer);
                // The send's buffer was a segment of the waiting queue: the args keep no reference to it.
                io.SendArgs!.SetBuffer(Memory<byte>.Empty);
                if (writer.State == LoopConnState.Closed)
                {
                    writer.SendBusy = false;
                    if (io.Parked is { } parked)
                    {
                        io.Parked = null;
                        core.ReturnQueue(parked);
                    }

                    ReleaseSlotIfIdle(core, writer);
                }
                else if (work.Error != SocketError.Success)
                {
                    writer.SendBusy = false;
                    core.Finish(writer);
                }
                else
                {
                    core.QueueSent(writer, work.Value);
                }

                break;
        }
    }

    // ---- listening and accepting ------------------------------------------------------------------------------

    public IPEndPoint Listen(ConnectionCore<SocketsBackend> core, IPEndPoint endPoint)
    {
        _shared.Core = core;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (!OperatingSystem.IsWindows())
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(_options.Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        lock (_shared.Listeners)
            _shared.Listeners.Add(socket);
        var args = new SocketAsyncEventArgs { UserToken = socket };
        args.Completed += _shared.Completed;
        _shared.StartAccept(args);
        return (IPEndPoint)socket.LocalEndPoint!;
    }

    public bool TryAccept(int listener, out int handle, out PeerAddress peer)
    {
        handle = -1;
        peer = default;
        return false;
    }

    public int SlotFor(int handle) => _shared.Slots.Take();

    /// <summary>The pause after running out of descriptors is over: the accepts it held start again.</summary>
    public void SetAccepting(ConnectionCore<SocketsBackend> core, bool accepting)
    {
        if (!accepting)
            return;
        foreach (SocketAsyncEventArgs args in _shared.PausedAccepts)
            _shared.StartAccept(args);
        _shared.PausedAccepts.Clear();
    }

    public void CloseListeners()
    {
        lock (_shared.Listeners)
        {
            foreach (Socket listener in _shared.Listeners)
                listener.Dispose();
            _shared.Listeners.Clear();
        }
    }

    public object TakeOver(INetConn conn)
    {
        if (conn is not SocketConn socketConn)
            throw new NotSupportedException($"SocketReactor registers socket descriptors ({nameof(SocketConn)}), not {conn.GetType().Name}.");
        return new Socket(new SafeSocketHandle(socketConn.Detach(), ownsHandle: true));
    }

    public void AddTakenOver(ConnectionCore<SocketsBackend> core, object state) => AddSocket(core, (Socket)state, listener: -1);

    public void DropTakenOver(object state) => ((Socket)state).Dispose();

    /// <summary>The remote endpoint of an accepted socket, or null when it is gone already.</summary>
    private static EndPoint? RemoteOf(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private void AddSocket(ConnectionCore<SocketsBackend> core, Socket socket, int listener)
    {
        if (core.ShuttingDown)
        {
            socket.Dispose();
            return;
        }

        try
        {
            socket.Blocking = false;
            socket.NoDelay = true;
            if (_options.SocketSendBufferSize > 0)
                socket.SendBufferSize = _options.SocketSendBufferSize;
            if (_options.SocketReceiveBufferSize > 0)
                socket.ReceiveBufferSize = _options.SocketReceiveBufferSize;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return;
        }

        int slot = SlotFor(-1);
        _shared.Io[slot] = new SocketIo(socket);
        core.Add(-1, slot, listener, listener < 0 ? default : PeerAddress.From(RemoteOf(socket)));
    }

    /// <summary>The connection's socket and operations, kept by slot until its last operation completed.</summary>
    private SocketIo IoOf(LoopConnection<SocketsBackend> conn) => _shared.Io[conn.Slot]!;

    /// <summary>Frees the slot of a closed connection once no operation of it is in flight: a completion that comes
    /// later must still find the connection's own socket and operations there.</summary>
    private void ReleaseSlotIfIdle(ConnectionCore<SocketsBackend> core, LoopConnection<SocketsBackend> conn)
    {
        if (conn.Has(ConnFlags.ReceivePending) || conn.SendBusy || core.Lookup(conn.Slot) != conn)
            return;
        core.ReleaseSlot(conn);
        _shared.Io[conn.Slot] = null;
        _shared.Slots.Return(conn.Slot);
    }

    // ---- one connection ---------------------------------------------------------------------------------------

    public bool Open(ConnectionCore<SocketsBackend> core, LoopConnection<SocketsBackend> conn)
    {
        SocketIo io = IoOf(conn);
        io.ReceiveArgs.UserToken = conn;
        io.ReceiveArgs.Completed += _shared.Completed;
        return true;
    }

    /// <summary>Waits for input with a zero-byte receive while the core wants input, and sends the first waiting
    /// bytes asynchronously while some wait; one of each in flight at most.</summary>
    public void UpdateInterest(ConnectionCore<SocketsBackend> core, LoopConnection<SocketsBackend> conn)
    {
        SocketIo io = IoOf(conn);
        if (!conn.Has(ConnFlags.ReceivePending) && ConnectionCore<SocketsBackend>.WantsInput(conn))
        {
            conn.Flags |= ConnFlags.ReceivePending;
            bool pending;
            try
            {
                pending = io.Socket.ReceiveAsync(io.ReceiveArgs);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                conn.Flags &= ~ConnFlags.ReceivePending;
                core.Finish(conn);
                return;
            }

            if (!pending)
                _shared.Enqueue(new Work(WorkKind.Readable, conn, 0, io.ReceiveArgs.SocketError));
        }

        if (!conn.SendBusy && conn.Waiting is { IsEmpty: false } queue)
        {
            SocketAsyncEventArgs args = io.SendArgs ??= CreateSendArgs(conn);
            args.SetBuffer(MemoryMarshal.AsMemory(queue.FirstMemory));
            conn.SendBusy = true;
            bool pending;
            try
            {
                pending = io.Socket.SendAsync(args);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                conn.SendBusy = false;
                core.Finish(conn);
                return;
            }

            if (!pending)
                _shared.Enqueue(new Work(WorkKind.Sent, conn, args.BytesTransferred, args.SocketError));
        }
    }

    private SocketAsyncEventArgs CreateSendArgs(LoopConnection<SocketsBackend> conn)
    {
        var args = new SocketAsyncEventArgs { UserToken = conn };
        args.Completed += _shared.Completed;
        return args;
    }

    public int Receive(LoopConnection<SocketsBackend> conn, byte* buffer, int length)
    {
        Socket socket = IoOf(conn).Socket;
        while (true)
        {
            int n = socket.Receive(new Span<byte>(buffer, length), SocketFlags.None, out SocketError error);
            if (error == SocketError.Success)
                return n;
            if (error != SocketError.Interrupted)
                return error == SocketError.WouldBlock ? IoResult.WouldBlock : IoResult.Failed;
        }
    }

    public int Send(ConnectionCore<SocketsBackend> core, LoopConnection<SocketsBackend> conn, byte* data, int length)
    {
        Socket socket = IoOf(conn).Socket;
        while (true)
        {
            int n = socket.Send(new ReadOnlySpan<byte>(data, length), SocketFlags.None, out SocketError error);
            if (error == SocketError.Success)
                return n;
            if (error != SocketError.Interrupted)
                return error == SocketError.WouldBlock ? 0 : IoResult.Failed;
        }
    }

    /// <summary>Sends are synchronous, or go out from the waiting queue itself: nothing else is in flight.</summary>
    public int InFlightBytes(LoopConnection<SocketsBackend> conn) => 0;

    public int SendCork(ConnectionCore<SocketsBackend> core, LoopConnection<SocketsBackend> conn, ref byte* cork, int length)
        => Send(core, conn, cork, length);

    public bool ShutdownSend(ConnectionCore<SocketsBackend> core, LoopConnection<SocketsBackend> conn)
    {
        try
        {
            IoOf(conn).Socket.Shutdown(SocketShutdown.Send);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Disposes the socket; operations in flight complete (aborted) later and find the connection closed,
    /// and the slot is freed after the last of them. A send in flight still reads the waiting queue: it is parked
    /// until that send completes.</summary>
    public void Close(ConnectionCore<SocketsBackend> core, LoopConnection<SocketsBackend> conn)
    {
        SocketIo io = IoOf(conn);
        if (conn.SendBusy && conn.Waiting is { } waiting)
        {
            io.Parked = waiting;
            conn.Waiting = null;
        }

        io.Socket.Dispose();
        ReleaseSlotIfIdle(core, conn);
    }

    public void CloseAtDispose(LoopConnection<SocketsBackend> conn) => IoOf(conn).Socket.Dispose();

    /// <summary>A connection's socket and its asynchronous operations; their buffers are empty while none is in
    /// flight.</summary>
    internal sealed class SocketIo(Socket socket)
    {
        public readonly Socket Socket = socket;
        public readonly SocketAsyncEventArgs ReceiveArgs = CreateReceiveArgs();
        public SocketAsyncEventArgs? SendArgs;

        /// <summary>The waiting queue of a closed connection, kept while a send still reads from it.</summary>
        public SendQueue? Parked;

        private static SocketAsyncEventArgs CreateReceiveArgs()
        {
            var args = new SocketAsyncEventArgs();
            args.SetBuffer(Memory<byte>.Empty);
            return args;
        }
    }

    /// <summary>What completions on other threads share with the loop: the queue of work, the semaphore the loop
    /// waits on, the listeners and the accepts paused for lack of descriptors.</summary>
    private sealed class Shared
    {
        public readonly ConcurrentQueue<Work> Completions = new();
        public readonly SemaphoreSlim Signal = new(0);
        public readonly List<Socket> Listeners = [];
        public readonly List<SocketAsyncEventArgs> PausedAccepts = [];
        public readonly SlotNumbers Slots = new();
        public readonly EventHandler<SocketAsyncEventArgs> Completed;
        public readonly ConnectionTable<SocketIo> Io = new();
        public ConnectionCore<SocketsBackend>? Core;

        public Shared() => Completed = OnCompleted;

        public void Enqueue(in Work work)
        {
            ConnectionCore<SocketsBackend> core = Core!;
            if (core.IsDisposed)
            {
                // Late completions of a disposed loop (its sockets were closed): nothing will run them.
                if (work.Kind == WorkKind.Accepted)
                    ((Socket)work.Target).Dispose();
                return;
            }

            Completions.Enqueue(work);
            core.Wake();
        }

        private void OnCompleted(object? sender, SocketAsyncEventArgs args)
        {
            switch (args.LastOperation)
            {
                case SocketAsyncOperation.Accept:
                    if (CompleteAccept(args))
                        StartAccept(args);
                    break;
                case SocketAsyncOperation.Receive:
                    Enqueue(new Work(WorkKind.Readable, args.UserToken!, 0, args.SocketError));
                    break;
                case SocketAsyncOperation.Send:
                    Enqueue(new Work(WorkKind.Sent, args.UserToken!, args.BytesTransferred, args.SocketError));
                    break;
            }
        }

        public void StartAccept(SocketAsyncEventArgs args)
        {
            var listener = (Socket)args.UserToken!;
            while (true)
            {
                args.AcceptSocket = null;
                try
                {
                    if (listener.AcceptAsync(args))
                        return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }

                if (!CompleteAccept(args))
                    return;
            }
        }

        /// <summary>Hands an accepted socket to the loop; true when the next accept may start. False when the
        /// listener failed (it was closed), or when the process ran out of descriptors: the loop then starts
        /// accepting again after a pause, and the waiting connections stay in the listen backlog meanwhile.</summary>
        private bool CompleteAccept(SocketAsyncEventArgs args)
        {
            if (args.SocketError == SocketError.Success && args.AcceptSocket is { } socket)
            {
                int listener;
                lock (Listeners)
                    listener = Listeners.IndexOf((Socket)args.UserToken!);
                Enqueue(new Work(WorkKind.Accepted, socket, listener, SocketError.Success));
                return true;
            }

            if (args.SocketError == SocketError.TooManyOpenSockets)
            {
                Enqueue(new Work(WorkKind.AcceptPaused, args, 0, args.SocketError));
                return false;
            }

            return args.SocketError is SocketError.ConnectionReset or SocketError.ConnectionAborted;
        }
    }

    private enum WorkKind : byte
    {
        Accepted,
        AcceptPaused,
        Readable,
        Sent,
    }

    /// <summary>One completion in the loop's queue (a struct: no allocation per item). <see cref="Value"/> is the
    /// byte count of a send, or the number of the listener that accepted a connection.</summary>
    private readonly record struct Work(WorkKind Kind, object Target, int Value, SocketError Error);
}
