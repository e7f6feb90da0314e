using System.Net;
using System.Runtime.InteropServices;
using WsGen.Native;
using static WsGen.Native.IoUringAbi;

namespace WsGen.Reactor;

/// <summary>
/// The io_uring backend of <see cref="IoUringReactor"/> (Linux 6.0 and later). Each loop turn is one
/// <c>io_uring_enter</c> that submits what the previous turn queued and waits for completions.
/// </summary>
/// <remarks>
/// <para>Accepting (<c>IoUringBackend.Accept.cs</c>): one multishot accept per listener, into the ring's table of
/// direct descriptors, so a loop holds connections beyond the process's descriptor limit.</para>
/// <para>Reading: each connection has one multishot receive that takes its buffer from the loop's provided buffer
/// ring, so a connection waiting for input owns no buffer; the buffer goes back to the ring as soon as the core has
/// handed the bytes over. When the ring runs dry the kernel ends the receive (ENOBUFS) and the loop arms it again.</para>
/// <para>Writing: one send in flight per connection. Up to 512 bytes (a handshake response, small messages) are copied
/// to a small buffer; a flushed cork of more becomes the send's buffer itself (the core gets a fresh cork). A short
/// send is continued before the core hands over what waits.</para>
/// <para>A connection's slot and send buffer are reused only after the kernel reported the end of all its
/// operations. The state lives in this struct, which the core keeps in a field and calls in place; per connection
/// it keeps, by slot, the send in flight, in a paged table (no memory for idle connections beyond the page).</para>
/// </remarks>
internal unsafe partial struct IoUringBackend : ILoopBackend<IoUringBackend>
{
    private const uint SubmissionEntries = 1024;
    private const uint CompletionEntries = 16384;
    private const int ReceiveBufferCount = 256;
    private const int MaxReceiveBufferSize = 64 * 1024;
    private const int MaxSendBufferSize = 64 * 1024;
    private const int MaxSpareSendBuffers = 128;
    private const int SmallSendSize = 512;
    private const ushort BufferGroup = 0;
    private const int QuiesceMilliseconds = 2000;
    private const ulong KeyMask = (1UL << 56) - 1;

    private readonly ReactorOptions _options;
    private readonly IoUring _ring;
    private readonly IoUringBufferRing _receiveBuffers;
    private readonly int _wakeFd;
    private readonly ulong* _wakeValue;
    private readonly int _sendBufferSize;
    private readonly Stack<nint> _spareSendBuffers;
    private readonly NativeChunks _smallSendBuffers;
    private readonly Stack<IoUringSend> _spareSends;
    private readonly SlotNumbers _slots;
    private readonly List<ListenerEntry> _listeners;
    private readonly List<nint> _buffersToFree;
    private readonly ConnectionTable<IoUringSend> _sends;
    private uint _generation;
    private long _inFlight;
    private bool _ran;
    private bool _stopping;
    private int _directSlots;
    private int _directInUse;
    private int _acceptsArmed;
    private bool _acceptWaitsForSlot;

    /// <summary>The ring, created disabled: <see cref="Starting"/> enables it on the loop thread, which so becomes
    /// its single issuer.</summary>
    internal IoUringBackend(ReactorOptions options)
    {
        _options = options;
        const uint common = IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_SUBMIT_ALL;
        _ring = IoUring.TryCreate(SubmissionEntries, CompletionEntries, common | IORING_SETUP_DEFER_TASKRUN, out _, out _)
            ?? IoUring.TryCreate(SubmissionEntries, CompletionEntries, common | IORING_SETUP_COOP_TASKRUN, out int errno, out _)
            ?? throw Errno.IOException("io_uring_setup", errno);
        try
        {
            int receiveSize = Math.Min(options.ReceiveBufferSize, MaxReceiveBufferSize);
            _receiveBuffers = new IoUringBufferRing(_ring, BufferGroup, ReceiveBufferCount, receiveSize);
            // Blocking, so that the ring's read of it waits (a write only blocks if the counter would overflow).
            _wakeFd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
            if (_wakeFd < 0)
                throw Errno.IOException("eventfd", Errno.Last);
        }
        catch
        {
            _receiveBuffers?.Dispose();
            _ring.Dispose();
            throw;
        }

        _sendBufferSize = Math.Min(options.SendBufferSize, MaxSendBufferSize);
        _wakeValue = (ulong*)NativeMemory.Alloc(sizeof(ulong));
        _spareSendBuffers = new Stack<nint>(MaxSpareSendBuffers);
        _smallSendBuffers = new NativeChunks(SmallSendSize);
        _spareSends = new Stack<IoUringSend>();
        _slots = new SlotNumbers();
        _listeners = [];
        _buffersToFree = [];
        _sends = new ConnectionTable<IoUringSend>();
    }

    /// <summary>Whether accepted sockets become direct descriptors (the default), when the kernel allows; read when
    /// the loop starts. Tests turn it off to cover plain descriptors.</summary>
    internal bool UseDirectDescriptors { get; set; }

    /// <summary>The most slots the direct descriptor table gets (it never exceeds RLIMIT_NOFILE either); read when
    /// the loop starts. Tests lower it to fill the table.</summary>
    internal int DirectDescriptorLimit { get; set; }

    /// <summary>True when the kernel offers what this loop needs: io_uring (not disabled), fast poll, extended
    /// enter arguments, single-issuer rings (Linux 6.0, which also brings multishot receive) and provided buffer
    /// rings.</summary>
    internal static bool Probe()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            using IoUring? ring = IoUring.TryCreate(4, 8, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_R_DISABLED, out _, out _);
            if (ring is null)
                return false;
            using var buffers = new IoUringBufferRing(ring, BufferGroup, 1, 64);
            return true;
        }
        catch (Exception e) when (e is IOException or EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The cork is as large as a send buffer, so that a flushed cork can become one.</summary>
    public readonly int CorkSize => _sendBufferSize;

    // ---- the loop ---------------------------------------------------------------------------------------------

    /// <summary>Before the first turn: the ring is enabled here, so that the loop thread becomes its single issuer;
    /// then the direct descriptor table, the wake-up read and the listeners' accepts.</summary>
    public void Starting(ConnectionCore<IoUringBackend> core)
    {
        if (_ran)
            throw new InvalidOperationException("An IoUringReactor runs once.");
        _ran = true;
        if (_ring.Register(IORING_REGISTER_ENABLE_RINGS, null, 0) < 0)
            throw Errno.IOException("io_uring_register (enable)", Errno.Last);
        RegisterDirectTable();
        ArmWake();
        ArmListeners(core);
    }

    /// <summary>One <c>io_uring_enter</c>: submits what the previous turn queued and waits for completions.</summary>
    public void Poll(ConnectionCore<IoUringBackend> core, int timeoutMilliseconds)
    {
        _ring.SubmitAndWait(timeoutMilliseconds);
        ProcessCompletions(core);
    }

    public readonly void Signal()
    {
        ulong one = 1;
        Libc.write(_wakeFd, &one, sizeof(ulong));
    }

    /// <summary>Cancels everything still in the kernel and waits (bounded) for the last completions, so that no
    /// operation outlives the loop while it still points at the loop's buffers.</summary>
    public void Stopped(ConnectionCore<IoUringBackend> core)
    {
        _stopping = true;
        _ring.PrepareCancelAll(Tag(Op.Cancel, 0));
        _inFlight++;
        long deadline = Environment.TickCount64 + QuiesceMilliseconds;
        while (_inFlight > 0 && Environment.TickCount64 < deadline)
        {
            _ring.SubmitAndWait(ConnectionLifecycle<LoopConnection<IoUringBackend>>.SweepMilliseconds);
            ProcessCompletions(core);
        }
    }

    /// <summary>Closing the ring ends whatever the kernel still holds before the memory it points to is freed.</summary>
    public void Dispose()
    {
        _receiveBuffers.Dispose();
        _ring.Dispose();
        foreach (nint buffer in _buffersToFree)
            NativeMemory.Free((void*)buffer);
        _smallSendBuffers.Dispose();
        while (_spareSendBuffers.TryPop(out nint buffer))
            NativeMemory.Free((void*)buffer);
        Libc.close(_wakeFd);
        NativeMemory.Free(_wakeValue);
    }

    private void ProcessCompletions(ConnectionCore<IoUringBackend> core)
    {
        while (_ring.TryPeek(out IoUringCqe cqe))
        {
            _ring.Advance();
            bool more = (cqe.Flags & IORING_CQE_F_MORE) != 0;
            if (!more)
                _inFlight--;
            switch ((Op)(cqe.UserData >> 56))
            {
                case Op.Recv:
                    OnReceived(core, in cqe, more);
                    break;
                case Op.Send:
                    OnSent(core, in cqe);
                    break;
                case Op.Accept:
                    OnAccepted(core, in cqe, more);
                    break;
                case Op.Wake:
                    core.WakeConsumed();
                    if (!_stopping)
                        ArmWake();
                    break;
                case Op.Shutdown:
                    OnShutdown(core, in cqe);
                    break;
                case Op.Close:
                    OnDirectClosed(core);
                    break;
            }

            core.DeliverCloses();
        }
    }

    private void ArmWake()
    {
        _ring.PrepareRead(_wakeFd, _wakeValue, sizeof(ulong), Tag(Op.Wake, 0));
        _inFlight++;
    }

    // ---- tags ---------------------------------------------------------------------------------------------------

    /// <summary>An operation's user data: the operation in the top byte, then the connection's key (its slot in the
    /// low 32 bits, the slot's generation above them).</summary>
    private static ulong Tag(Op op, ulong key) => ((ulong)op << 56) | key;

    private static ulong Key(LoopConnection<IoUringBackend> conn) => ((ulong)conn.Generation << 32) | (uint)conn.Slot;

    /// <summary>The connection an operation's completion belongs to, or null when its slot holds another one now.</summary>
    private readonly LoopConnection<IoUringBackend>? Find(ConnectionCore<IoUringBackend> core, ulong userData)
    {
        int slot = (int)(uint)userData;
        LoopConnection<IoUringBackend>? conn = core.Lookup(slot);
        return conn is not null && Key(conn) == (userData & KeyMask) ? conn : null;
    }

    private enum Op : byte
    {
        Accept = 1,
        Recv = 2,
        Send = 3,
        Wake = 4,
        Cancel = 5,
        Shutdown = 6,
        Close = 7,
    }
}
