using static WsGen.Native.IoUringAbi;

namespace WsGen.Native;

/// <summary>The submission entries WsGen's loop queues, one small method each: the entry is cleared by
/// <see cref="NextSqe"/>, so each sets only the fields its operation reads.</summary>
internal sealed unsafe partial class IoUring
{
    /// <summary>A multishot receive on <paramref name="fd"/> (a direct descriptor when <paramref name="fixedFile"/>)
    /// into buffers of provided group <paramref name="bufferGroup"/>.</summary>
    public void PrepareReceiveMultishot(int fd, bool fixedFile, ushort bufferGroup, ulong userData)
    {
        IoUringSqe* sqe = NextSqe();
        sqe->Opcode = IORING_OP_RECV;
        sqe->Fd = fd;
        sqe->Flags = (byte)(IOSQE_BUFFER_SELECT | (fixedFile ? IOSQE_FIXED_FILE : 0));
        sqe->BufferGroup = bufferGroup;
        sqe->IoPrio = IORING_RECV_MULTISHOT;
        sqe->UserData = userData;
    }

    /// <summary>A send of <paramref name="length"/> bytes at <paramref name="data"/> that never raises SIGPIPE.</summary>
    public void PrepareSend(int fd, bool fixedFile, byte* data, int length, ulong userData)
    {
        IoUringSqe* sqe = NextSqe();
        sqe->Opcode = IORING_OP_SEND;
        sqe->Fd = fd;
        sqe->Flags = fixedFile ? IOSQE_FIXED_FILE : (byte)0;
        sqe->Address = (ulong)data;
        sqe->Length = (uint)length;
        sqe->OpFlags = Libc.MSG_NOSIGNAL;
        sqe->UserData = userData;
    }

    /// <summary>An accept on listener <paramref name="fd"/>: into a free slot of the direct descriptor table when
    /// <paramref name="direct"/> (else a plain descriptor with close-on-exec), for one connection, whose peer address
    /// the kernel writes to <paramref name="address"/> (<paramref name="addressLength"/> bytes at most, updated).</summary>
    public void PrepareAccept(int fd, bool direct, ulong userData, byte* address, uint* addressLength)
    {
        IoUringSqe* sqe = NextSqe();
        sqe->Opcode = IORING_OP_ACCEPT;
        sqe->Fd = fd;
        sqe->Address = (ulong)address;
        sqe->Offset = (ulong)addressLength;
        if (direct)
            sqe->FileIndex = unchecked((int)IORING_FILE_INDEX_ALLOC);
        else
            sqe->OpFlags = Libc.SOCK_CLOEXEC;
        sqe->UserData = userData;
    }

    /// <summary>Cancels the operation tagged <paramref name="target"/>.</summary>
    public void PrepareCancel(ulong target, ulong userData)
    {
        IoUringSqe* sqe = NextSqe();
        sqe->Opcode = IORING_OP_ASYNC_CANCEL;
        sqe->Fd = -1;
        sqe->Address = target;
        sqe->UserData = userData;
    }

    /// <summary>Cancels every operation in flight.</summary>
    public void PrepareCancelAll(ulong userData)
    {
        IoUringSqe* sqe = NextSqe();
        sqe->Opcode = IORING_OP_ASYNC_CANCEL;
        sqe->Fd = -1;
        sqe->OpFlags = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL;
        sqe->UserData = userData;
    }

    /// <summary>Shuts down the sending side of direct descriptor <paramref name="index"/>.</summary>
    public void PrepareShutdownDirect(int index, ulong userData)
    {
        IoUringSqe* sqe = NextSqe();
        sqe->Opcode = IORING_OP_SHUTDOWN;
        sqe->Fd = index;
        sqe->Flags = IOSQE_FIXED_FILE;
        sqe->Length = (uint)Libc.SHUT_WR;
        sqe->UserData = userData;
    }

    /// <summary>Frees slot <paramref name="index"/> of the direct descriptor table, which closes its socket once no
    /// operation uses it any more.</summary>
    public void PrepareCloseDirect(int index, ulong userData)
    {
        IoUringSqe* sqe = NextSqe();
        sqe->Opcode = IORING_OP_CLOSE;
        sqe->FileIndex = index + 1;
        sqe->UserData = userData;
    }

    /// <summary>A read of <paramref name="length"/> bytes from <paramref name="fd"/> at its current position.</summary>
    public void PrepareRead(int fd, void* buffer, int length, ulong userData)
    {
        IoUringSqe* sqe = NextSqe();
        sqe->Opcode = IORING_OP_READ;
        sqe->Fd = fd;
        sqe->Address = (ulong)buffer;
        sqe->Length = (uint)length;
        sqe->Offset = ulong.MaxValue;
        sqe->UserData = userData;
    }
}
