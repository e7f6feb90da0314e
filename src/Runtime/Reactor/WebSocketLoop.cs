namespace WsGen;

/// <summary>The event loop a <see cref="WebSocketServer"/> runs (<see cref="WebSocketServerOptions.Loop"/>).</summary>
public enum WebSocketLoop
{
    /// <summary>The loop named by the environment variable <c>WSGEN_REACTOR</c> when it is set, else the native loop
    /// of the platform: io_uring on Linux when the kernel has it (else epoll), kqueue on macOS and FreeBSD, IOCP on
    /// Windows, <see cref="Sockets"/> elsewhere.</summary>
    Default,

    /// <summary>io_uring (Linux 6.0 or later): multishot accept and receive, sockets in the ring's direct descriptor table.</summary>
    IoUring,

    /// <summary>epoll (Linux).</summary>
    Epoll,

    /// <summary>kqueue (64-bit macOS and FreeBSD).</summary>
    Kqueue,

    /// <summary>I/O completion ports (64-bit Windows).</summary>
    Iocp,

    /// <summary>The portable loop over .NET sockets, on every platform.</summary>
    Sockets,
}
