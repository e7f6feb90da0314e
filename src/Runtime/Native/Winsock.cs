using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>
/// Winsock 2 (ws2_32.dll) calls and constants used by the IOCP loop. A SOCKET is a <c>UINT_PTR</c> handle
/// (<see cref="nint"/> here); failed calls return <see cref="SOCKET_ERROR"/> or <see cref="INVALID_SOCKET"/> and
/// leave the error in the last P/Invoke error (WSAGetLastError and GetLastError share it).
/// </summary>
internal static unsafe partial class Winsock
{
    private const string LibraryName = "ws2_32.dll";

    internal const int AF_INET = 2;
    internal const int AF_INET6 = 23;
    internal const int SOCK_STREAM = 1;
    internal const int IPPROTO_TCP = 6;
    internal const int SOL_SOCKET = 0xffff;
    internal const int SO_SNDBUF = 0x1001;
    internal const int SO_RCVBUF = 0x1002;

    /// <summary>SO_EXCLUSIVEADDRUSE (<c>~SO_REUSEADDR</c>): no other socket may bind the listener's port.</summary>
    internal const int SO_EXCLUSIVEADDRUSE = ~0x0004;

    /// <summary>mswsock.h: gives a socket accepted with AcceptEx the listening socket's properties.</summary>
    internal const int SO_UPDATE_ACCEPT_CONTEXT = 0x700B;

    internal const int TCP_NODELAY = 1;
    internal const int SD_SEND = 1;
    internal const int SOMAXCONN = 0x7fffffff;

    /// <summary><c>_IOW('f', 126, u_long)</c>: non-blocking mode for calls without an OVERLAPPED.</summary>
    internal const int FIONBIO = unchecked((int)0x8004667E);

    /// <summary><c>_WSAIORW(IOC_WS2, 6)</c>.</summary>
    internal const uint SIO_GET_EXTENSION_FUNCTION_POINTER = 0xC8000006;

    internal const uint WSA_FLAG_OVERLAPPED = 0x01;
    internal const uint WSA_FLAG_NO_HANDLE_INHERIT = 0x80;

    internal const int SOCKET_ERROR = -1;
    internal const nint INVALID_SOCKET = -1;

    internal const int WSA_IO_PENDING = 997;
    internal const int WSAEINTR = 10004;
    internal const int WSAEWOULDBLOCK = 10035;
    internal const int WSAECONNRESET = 10054;

    /// <summary>Space for one address in an AcceptEx buffer: the largest sockaddr (28) plus 16, as documented.</summary>
    internal const int AcceptAddressLength = 28 + 16;

    /// <summary>WSAID_ACCEPTEX {b5367df1-cbac-11cf-95ca-00805f48a192}.</summary>
    internal static readonly Guid WSAID_ACCEPTEX = new(0xb5367df1, 0xcbac, 0x11cf, 0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92);

    private static readonly Lock StartLock = new();
    private static bool s_started;

    [LibraryImport(LibraryName)]
    internal static partial int WSAStartup(ushort versionRequested, byte* data);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint WSASocketW(int af, int type, int protocol, void* protocolInfo, uint group, uint flags);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int bind(nint socket, byte* address, int addressLength);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int listen(nint socket, int backlog);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int getsockname(nint socket, byte* address, int* addressLength);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int getpeername(nint socket, byte* address, int* addressLength);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int setsockopt(nint socket, int level, int name, void* value, int valueLength);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int ioctlsocket(nint socket, int command, uint* argument);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int WSAIoctl(nint socket, uint code, void* input, uint inputLength, void* output, uint outputLength, uint* bytesReturned, void* overlapped, void* completionRoutine);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int recv(nint socket, byte* buffer, int length, int flags);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int send(nint socket, byte* buffer, int length, int flags);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int WSARecv(nint socket, WsaBuf* buffers, uint bufferCount, uint* bytesReceived, uint* flags, NativeOverlapped* overlapped, void* completionRoutine);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int WSASend(nint socket, WsaBuf* buffers, uint bufferCount, uint* bytesSent, uint flags, NativeOverlapped* overlapped, void* completionRoutine);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int shutdown(nint socket, int how);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int closesocket(nint socket);

    /// <summary>The last Winsock error of this thread.</summary>
    internal static int LastError => Marshal.GetLastPInvokeError();

    /// <summary>Calls WSAStartup (version 2.2) once per process.</summary>
    internal static void EnsureStarted()
    {
        lock (StartLock)
        {
            if (s_started)
                return;
            byte* data = stackalloc byte[512];
            int rc = WSAStartup(0x0202, data);
            if (rc != 0)
                throw new SocketException(rc);
            s_started = true;
        }
    }

    /// <summary>Sets an integer socket option.</summary>
    internal static int SetIntOption(nint socket, int level, int name, int value)
        => setsockopt(socket, level, name, &value, sizeof(int));

    /// <summary>A <see cref="SocketException"/> for the last Winsock error (its codes are SocketError values).</summary>
    internal static SocketException LastException() => new(LastError);
}

/// <summary><c>WSABUF</c>: a length (<c>ULONG</c>) and a pointer; 16 bytes on 64-bit.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct WsaBuf
{
    public uint Length;
    public byte* Buffer;
}
