using System.ComponentModel;

namespace WsGen;

/// <summary>The operating system of the RuntimeIdentifier a <c>[WebSocketEndpoint]</c> application was built for, as
/// the generated code passes it to <see cref="WebSocketServer.UseDispatcher"/>; the runtime picks the loop from it.</summary>
/// <remarks>For generated code; hidden from IntelliSense.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum GeneratedTarget
{
    /// <summary>No RuntimeIdentifier (or one of another OS): the loop is chosen at start from the running platform.</summary>
    Any,

    /// <summary><c>linux-*</c>: io_uring when the kernel has it, else epoll.</summary>
    Linux,

    /// <summary><c>osx-*</c>, <c>freebsd-*</c>: kqueue (the portable sockets loop on a 32-bit process).</summary>
    Bsd,

    /// <summary><c>win-*</c>: IOCP (the portable sockets loop on a 32-bit process).</summary>
    Windows,
}
