using System.Runtime.InteropServices;
using static WsGen.Native.IoUringAbi;

namespace WsGen.Native;

/// <summary>
/// One io_uring instance: the mapped submission and completion rings and the submission entry array, used by a
/// single thread. Submission entries are queued with <see cref="NextSqe"/> and handed to the kernel with the next
/// <see cref="SubmitAndWait"/> (or <see cref="Submit"/> when the queue is full); completions are read with
/// <see cref="TryPeek"/> and released with <see cref="Advance"/>.
/// </summary>
/// <remarks>The ring's head and tail indexes are shared with the kernel: the indexes the kernel writes are read
/// with acquire semantics (<c>Volatile.Read</c>) and the ones WsGen writes are published with
/// release semantics (<c>Volatile.Write</c>), so entries are complete before they are seen.</remarks>
internal sealed unsafe partial class IoUring : IDisposable
{
    private readonly byte* _rings;
    private readonly nuint _ringsSize;
    private readonly IoUringSqe* _sqes;
    private readonly nuint _sqesSize;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint _sqEntries;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly IoUringCqe* _cqes;
    private uint _localSqTail;
    private int _fd;

    private IoUring(int fd, in IoUringParams p)
    {
        _fd = fd;
        _sqEntries = p.SqEntries;
        nuint sqSize = p.SqOff.Array + (p.SqEntries * sizeof(uint));
        nuint cqSize = p.CqOff.Cqes + (p.CqEntries * (uint)sizeof(IoUringCqe));
        _ringsSize = Math.Max(sqSize, cqSize);
        void* rings = mmap(null, _ringsSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
        if (rings == (void*)-1)
            throw Errno.IOException("mmap (io_uring rings)", Errno.Last);
        _rings = (byte*)rings;
        _sqesSize = p.SqEntries * (uint)sizeof(IoUringSqe);
        void* sqes = mmap(null, _sqesSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
        if (sqes == (void*)-1)
        {
            int errno = Errno.Last;
            munmap(rings, _ringsSize);
            throw Errno.IOException("mmap (io_uring entries)", errno);
        }

        _sqes = (IoUringSqe*)sqes;
        _sqHead = (uint*)(_rings + p.SqOff.Head);
        _sqTail = (uint*)(_rings + p.SqOff.Tail);
        _sqMask = *(uint*)(_rings + p.SqOff.RingMask);
        _cqHead = (uint*)(_rings + p.CqOff.Head);
        _cqTail = (uint*)(_rings + p.CqOff.Tail);
        _cqMask = *(uint*)(_rings + p.CqOff.RingMask);
        _cqes = (IoUringCqe*)(_rings + p.CqOff.Cqes);
        _localSqTail = *_sqTail;

        // Submission entry i always sits in slot i: the indirection array is the identity once and for all.
        uint* array = (uint*)(_rings + p.SqOff.Array);
        for (uint i = 0; i < p.SqEntries; i++)
            array[i] = i;
    }

    /// <summary>The ring's descriptor, or -1 once disposed.</summary>
    public int Fd => _fd;

    /// <summary>Submission entries queued and not yet handed to the kernel.</summary>
    public uint Pending => _localSqTail - Volatile.Read(ref *_sqHead);

    /// <summary>Creates a ring with <paramref name="entries"/> submission and <paramref name="cqEntries"/>
    /// completion entries and <paramref name="flags"/>; returns null with the errno when the kernel refuses them.</summary>
    public static IoUring? TryCreate(uint entries, uint cqEntries, uint flags, out int errno, out uint features)
    {
        IoUringParams p = default;
        p.Flags = flags | IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
        p.CqEntries = cqEntries;
        int fd = Setup(entries, &p);
        features = p.Features;
        if (fd < 0)
        {
            errno = Errno.Last;
            return null;
        }

        errno = 0;
        const uint needed = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_FAST_POLL | IORING_FEAT_EXT_ARG;
        if ((p.Features & needed) != needed)
        {
            Libc.close(fd);
            errno = Errno.EINVAL;
            return null;
        }

        try
        {
            return new IoUring(fd, p);
        }
        catch
        {
            Libc.close(fd);
            throw;
        }
    }

    /// <summary>A cleared submission entry to fill; submits what is queued first when the queue is full.</summary>
    public IoUringSqe* NextSqe()
    {
        if (_localSqTail - Volatile.Read(ref *_sqHead) >= _sqEntries)
            Submit();
        IoUringSqe* sqe = &_sqes[_localSqTail & _sqMask];
        *sqe = default;
        _localSqTail++;
        Volatile.Write(ref *_sqTail, _localSqTail);
        return sqe;
    }

    /// <summary>Hands the queued entries to the kernel without waiting.</summary>
    public void Submit()
    {
        while (Pending > 0)
        {
            int rc = Enter(_fd, Pending, 0, 0, null, 0);
            if (rc >= 0)
                continue;
            int errno = Errno.Last;
            if (errno is Errno.EINTR or Errno.EAGAIN or EBUSY)
                continue;
            throw Errno.IOException("io_uring_enter", errno);
        }
    }

    /// <summary>Hands the queued entries to the kernel and, in the same call, waits until at least one completion
    /// is available or <paramref name="timeoutMilliseconds"/> passed (0: do not wait).</summary>
    public void SubmitAndWait(int timeoutMilliseconds)
    {
        KernelTimespec ts = default;
        ts.Seconds = timeoutMilliseconds / 1000;
        ts.Nanoseconds = (timeoutMilliseconds % 1000) * 1_000_000L;
        IoUringGetEventsArg arg = default;
        arg.Timespec = (ulong)&ts;
        uint minComplete = timeoutMilliseconds > 0 ? 1U : 0U;
        int rc = Enter(_fd, Pending, minComplete, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, (nuint)sizeof(IoUringGetEventsArg));
        if (rc >= 0)
            return;
        int errno = Errno.Last;
        // ETIME: the wait timed out; EINTR: a signal; EBUSY/EAGAIN: completions must be reaped first.
        if (errno is ETIME or Errno.EINTR or EBUSY or Errno.EAGAIN)
            return;
        throw Errno.IOException("io_uring_enter", errno);
    }

    /// <summary>The oldest completion not yet released, if any.</summary>
    public bool TryPeek(out IoUringCqe cqe)
    {
        uint head = *_cqHead;
        if (head == Volatile.Read(ref *_cqTail))
        {
            cqe = default;
            return false;
        }

        cqe = _cqes[head & _cqMask];
        return true;
    }

    /// <summary>Releases the completion <see cref="TryPeek"/> returned, so that the kernel may reuse its slot.</summary>
    public void Advance() => Volatile.Write(ref *_cqHead, *_cqHead + 1);

    /// <summary>io_uring_register on this ring.</summary>
    public int Register(uint opcode, void* argument, uint count) => IoUringAbi.Register(_fd, opcode, argument, count);

    /// <summary>Unmaps the rings and closes the descriptor (which cancels whatever is still in flight).</summary>
    public void Dispose()
    {
        if (_fd < 0)
            return;
        munmap(_sqes, _sqesSize);
        munmap(_rings, _ringsSize);
        Libc.close(_fd);
        _fd = -1;
    }
}

/// <summary>
/// A provided buffer ring (IORING_REGISTER_PBUF_RING): <c>count</c> receive buffers of <c>size</c> bytes that the
/// kernel picks from when a receive completes, so that a connection waiting for input owns no buffer.
/// </summary>
internal sealed unsafe class IoUringBufferRing : IDisposable
{
    private readonly IoUring _ring;
    private readonly IoUringBuf* _entries;
    private readonly byte* _buffers;
    private readonly ushort _mask;
    private ushort _tail;
    private bool _registered;
    private bool _freed;

    /// <summary>Registers a ring of <paramref name="count"/> (a power of two) buffers of <paramref name="size"/>
    /// bytes as group <paramref name="groupId"/>, every buffer provided.</summary>
    public IoUringBufferRing(IoUring ring, ushort groupId, int count, int size)
    {
        _ring = ring;
        GroupId = groupId;
        Count = count;
        BufferSize = size;
        _mask = (ushort)(count - 1);
        _entries = (IoUringBuf*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(IoUringBuf)), 4096);
        _buffers = (byte*)NativeMemory.AlignedAlloc((nuint)count * (nuint)size, 4096);
        NativeMemory.Clear(_entries, (nuint)(count * sizeof(IoUringBuf)));

        IoUringBufReg reg = default;
        reg.RingAddress = (ulong)_entries;
        reg.RingEntries = (uint)count;
        reg.GroupId = groupId;
        if (ring.Register(IoUringAbi.IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
        {
            int errno = Errno.Last;
            Free();
            throw Errno.IOException("io_uring_register (buffer ring)", errno);
        }

        _registered = true;
        for (int i = 0; i < count; i++)
            Recycle((ushort)i);
    }

    /// <summary>The buffer group id receives name.</summary>
    public ushort GroupId { get; }

    /// <summary>The number of buffers.</summary>
    public int Count { get; }

    /// <summary>The size of each buffer.</summary>
    public int BufferSize { get; }

    /// <summary>The first <paramref name="length"/> bytes of buffer <paramref name="id"/>.</summary>
    public Span<byte> Get(ushort id, int length) => new(_buffers + ((nint)id * BufferSize), length);

    /// <summary>Gives buffer <paramref name="id"/> back to the kernel (its bytes must no longer be needed).</summary>
    public void Recycle(ushort id)
    {
        IoUringBuf* entry = &_entries[_tail & _mask];
        entry->Address = (ulong)(_buffers + ((nint)id * BufferSize));
        entry->Length = (uint)BufferSize;
        entry->BufferId = id;
        _tail++;
        // The tail overlays the reserved field of entry 0; publishing it last makes the entry visible complete.
        Volatile.Write(ref ((IoUringBuf*)_entries)->Reserved, _tail);
    }

    /// <summary>Unregisters the ring and frees the buffers. The ring must not be in use any more.</summary>
    public void Dispose()
    {
        if (_registered && _ring.Fd >= 0)
        {
            IoUringBufReg reg = default;
            reg.GroupId = GroupId;
            _ring.Register(IoUringAbi.IORING_UNREGISTER_PBUF_RING, &reg, 1);
        }

        _registered = false;
        Free();
    }

    private void Free()
    {
        if (_freed)
            return;
        _freed = true;
        NativeMemory.AlignedFree(_entries);
        NativeMemory.AlignedFree(_buffers);
    }
}
