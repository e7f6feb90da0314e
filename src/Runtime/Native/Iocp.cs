using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>I/O completion port calls of kernel32.dll.</summary>
/// <remarks>The OVERLAPPED of an operation is <see cref="NativeOverlapped"/> (Internal, InternalHigh, Offset,
/// OffsetHigh, hEvent: 32 bytes on 64-bit); when the operation completes, Windows stores its status code in
/// Internal (0 for success).</remarks>
internal static unsafe partial class Iocp
{
    private const string LibraryName = "kernel32.dll";

    /// <summary>GetQueuedCompletionStatusEx fails with this error when the timeout passed.</summary>
    internal const int WAIT_TIMEOUT = 258;

    internal const nint INVALID_HANDLE_VALUE = -1;

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial nint CreateIoCompletionPort(nint fileHandle, nint existingCompletionPort, nuint completionKey, uint numberOfConcurrentThreads);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int GetQueuedCompletionStatusEx(nint completionPort, OverlappedEntry* entries, uint count, uint* removed, uint milliseconds, int alertable);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int PostQueuedCompletionStatus(nint completionPort, uint bytesTransferred, nuint completionKey, NativeOverlapped* overlapped);

    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int CloseHandle(nint handle);
}

/// <summary><c>OVERLAPPED_ENTRY</c>: completion key, the operation's OVERLAPPED, Internal, and the bytes
/// transferred (<c>DWORD</c>, padded): 32 bytes on 64-bit.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct OverlappedEntry
{
    public nuint CompletionKey;
    public NativeOverlapped* Overlapped;
    public nuint Internal;
    public uint BytesTransferred;
}
