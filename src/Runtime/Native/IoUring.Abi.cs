using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>
/// The io_uring kernel ABI WsGen uses: system call numbers, constants and the shared structures
/// (<c>linux/io_uring.h</c>). The numbers are those of the generic syscall table, shared by x86-64 and arm64.
/// </summary>
internal static unsafe partial class IoUringAbi
{
    internal const int SYS_io_uring_setup = 425;
    internal const int SYS_io_uring_enter = 426;
    internal const int SYS_io_uring_register = 427;

    // io_uring_setup flags.
    internal const uint IORING_SETUP_CQSIZE = 1U << 3;
    internal const uint IORING_SETUP_CLAMP = 1U << 4;
    internal const uint IORING_SETUP_R_DISABLED = 1U << 6;
    internal const uint IORING_SETUP_SUBMIT_ALL = 1U << 7;
    internal const uint IORING_SETUP_COOP_TASKRUN = 1U << 8;
    internal const uint IORING_SETUP_SINGLE_ISSUER = 1U << 12;
    internal const uint IORING_SETUP_DEFER_TASKRUN = 1U << 13;

    // io_uring_params.features.
    internal const uint IORING_FEAT_SINGLE_MMAP = 1U << 0;
    internal const uint IORING_FEAT_NODROP = 1U << 1;
    internal const uint IORING_FEAT_FAST_POLL = 1U << 5;
    internal const uint IORING_FEAT_EXT_ARG = 1U << 8;

    // io_uring_enter flags.
    internal const uint IORING_ENTER_GETEVENTS = 1U << 0;
    internal const uint IORING_ENTER_EXT_ARG = 1U << 3;

    // io_uring_register opcodes.
    internal const uint IORING_REGISTER_ENABLE_RINGS = 12;
    internal const uint IORING_REGISTER_FILES2 = 13;
    internal const uint IORING_REGISTER_PBUF_RING = 22;
    internal const uint IORING_UNREGISTER_PBUF_RING = 23;

    // mmap offsets of the rings.
    internal const long IORING_OFF_SQ_RING = 0;
    internal const long IORING_OFF_SQES = 0x10000000;

    // Opcodes.
    internal const byte IORING_OP_NOP = 0;
    internal const byte IORING_OP_ACCEPT = 13;
    internal const byte IORING_OP_ASYNC_CANCEL = 14;
    internal const byte IORING_OP_CLOSE = 19;
    internal const byte IORING_OP_READ = 22;
    internal const byte IORING_OP_SEND = 26;
    internal const byte IORING_OP_RECV = 27;
    internal const byte IORING_OP_SHUTDOWN = 34;

    // io_uring_sqe.flags.
    internal const byte IOSQE_FIXED_FILE = 1 << 0;
    internal const byte IOSQE_BUFFER_SELECT = 1 << 5;

    // io_uring_rsrc_register.flags: a table of empty slots.
    internal const uint IORING_RSRC_REGISTER_SPARSE = 1U << 0;

    // io_uring_sqe.file_index of an accept: the kernel picks a free slot of the registered file table.
    internal const uint IORING_FILE_INDEX_ALLOC = ~0U;

    // io_uring_sqe.ioprio for accept and recv.
    internal const ushort IORING_RECV_MULTISHOT = 1 << 1;

    // io_uring_sqe.cancel_flags.
    internal const uint IORING_ASYNC_CANCEL_ALL = 1U << 0;
    internal const uint IORING_ASYNC_CANCEL_ANY = 1U << 2;

    // io_uring_cqe.flags.
    internal const uint IORING_CQE_F_BUFFER = 1U << 0;
    internal const uint IORING_CQE_F_MORE = 1U << 1;
    internal const int IORING_CQE_BUFFER_SHIFT = 16;

    // Errors io_uring reports in cqe.res (negated) or from io_uring_enter.
    internal const int ENOENT = 2;
    internal const int EBUSY = 16;
    internal const int ETIME = 62;
    internal const int ECANCELED = 125;

    // mmap.
    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;
    internal const int MAP_SHARED = 0x01;
    internal const int MAP_POPULATE = 0x8000;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    internal static partial nint syscall(nint number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial void* mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int munmap(void* address, nuint length);

    /// <summary>io_uring_setup(2): a new ring with <paramref name="entries"/> submission entries.</summary>
    internal static int Setup(uint entries, IoUringParams* parameters)
        => (int)syscall(SYS_io_uring_setup, (nint)entries, (nint)parameters, 0, 0, 0, 0);

    /// <summary>io_uring_enter(2) with an extended argument (<see cref="IORING_ENTER_EXT_ARG"/>) or none.</summary>
    internal static int Enter(int fd, uint toSubmit, uint minComplete, uint flags, void* argument, nuint argumentSize)
        => (int)syscall(SYS_io_uring_enter, fd, (nint)toSubmit, (nint)minComplete, (nint)flags, (nint)argument, (nint)argumentSize);

    /// <summary>io_uring_register(2).</summary>
    internal static int Register(int fd, uint opcode, void* argument, uint count)
        => (int)syscall(SYS_io_uring_register, fd, (nint)opcode, (nint)argument, (nint)count, 0, 0);
}

/// <summary><c>struct io_sqring_offsets</c> (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoSqRingOffsets
{
    public uint Head;
    public uint Tail;
    public uint RingMask;
    public uint RingEntries;
    public uint Flags;
    public uint Dropped;
    public uint Array;
    public uint Reserved1;
    public ulong UserAddress;
}

/// <summary><c>struct io_cqring_offsets</c> (40 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoCqRingOffsets
{
    public uint Head;
    public uint Tail;
    public uint RingMask;
    public uint RingEntries;
    public uint Overflow;
    public uint Cqes;
    public uint Flags;
    public uint Reserved1;
    public ulong UserAddress;
}

/// <summary><c>struct io_uring_params</c> (120 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringParams
{
    public uint SqEntries;
    public uint CqEntries;
    public uint Flags;
    public uint SqThreadCpu;
    public uint SqThreadIdle;
    public uint Features;
    public uint WqFd;
    public fixed uint Reserved[3];
    public IoSqRingOffsets SqOff;
    public IoCqRingOffsets CqOff;
}

/// <summary><c>struct io_uring_sqe</c> (64 bytes), with the fields WsGen's opcodes use.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct IoUringSqe
{
    [FieldOffset(0)] public byte Opcode;
    [FieldOffset(1)] public byte Flags;
    [FieldOffset(2)] public ushort IoPrio;
    [FieldOffset(4)] public int Fd;
    [FieldOffset(8)] public ulong Offset;
    [FieldOffset(16)] public ulong Address;
    [FieldOffset(24)] public uint Length;

    /// <summary>msg_flags, accept_flags, cancel_flags ... depending on the opcode.</summary>
    [FieldOffset(28)] public uint OpFlags;
    [FieldOffset(32)] public ulong UserData;

    /// <summary>The provided buffer group, with <see cref="IoUringAbi.IOSQE_BUFFER_SELECT"/>.</summary>
    [FieldOffset(40)] public ushort BufferGroup;
    [FieldOffset(42)] public ushort Personality;
    [FieldOffset(44)] public int FileIndex;
    [FieldOffset(48)] public ulong Address3;
    [FieldOffset(56)] public ulong Pad;
}

/// <summary>io_uring_rsrc_register: the argument of <see cref="IoUringAbi.IORING_REGISTER_FILES2"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringRsrcRegister
{
    public uint Count;
    public uint Flags;
    public ulong Reserved;
    public ulong Data;
    public ulong Tags;
}

/// <summary><c>struct io_uring_cqe</c> (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringCqe
{
    public ulong UserData;
    public int Result;
    public uint Flags;
}

/// <summary><c>struct io_uring_buf_reg</c> (40 bytes): registers a provided buffer ring.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringBufReg
{
    public ulong RingAddress;
    public uint RingEntries;
    public ushort GroupId;
    public ushort Flags;
    public fixed ulong Reserved[3];
}

/// <summary><c>struct io_uring_buf</c> (16 bytes): one entry of a provided buffer ring. The ring's tail is the
/// last 16 bits of the first entry (where its reserved field lies).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringBuf
{
    public ulong Address;
    public uint Length;
    public ushort BufferId;
    public ushort Reserved;
}

/// <summary><c>struct io_uring_getevents_arg</c> (24 bytes): the timeout of a waiting io_uring_enter.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringGetEventsArg
{
    public ulong SigMask;
    public uint SigMaskSize;
    public uint MinWaitMicroseconds;
    public ulong Timespec;
}

/// <summary><c>struct __kernel_timespec</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KernelTimespec
{
    public long Seconds;
    public long Nanoseconds;
}
