using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>
/// Non-blocking receive and send on a POSIX socket, with the outcome folded into one number: a byte count (0 from a
/// receive at the peer's end of stream), <see cref="WouldBlock"/> or <see cref="Failed"/>. An interrupted call is
/// retried. Linux and the BSDs differ only in the value of EAGAIN, which the caller passes.
/// </summary>
internal static unsafe class IoResult
{
    /// <summary>Nothing can be received, or sent, now.</summary>
    public const int WouldBlock = -1;

    /// <summary>The connection is broken.</summary>
    public const int Failed = -2;

    /// <summary>One <c>recv</c>, retried while interrupted.</summary>
    public static int Receive(int fd, byte* buffer, int length, int eagain)
    {
        while (true)
        {
            nint n = Libc.recv(fd, buffer, (nuint)length, 0);
            if (n >= 0)
                return (int)n;
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
                return errno == eagain ? WouldBlock : Failed;
        }
    }

    /// <summary>One <c>send</c> with <paramref name="flags"/>, retried while interrupted; 0 when it would block.</summary>
    public static int Send(int fd, byte* data, int length, int flags, int eagain)
    {
        while (true)
        {
            nint n = Libc.send(fd, data, (nuint)length, flags);
            if (n >= 0)
                return (int)n;
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
                return errno == eagain ? 0 : Failed;
        }
    }
}
