namespace WsGen;

/// <summary>Creates the reactor for the running platform.</summary>
public static class ReactorFactory
{
    /// <summary>The environment variable that overrides the choice: <c>io_uring</c> (or <c>iouring</c>), <c>epoll</c>,
    /// <c>kqueue</c>, <c>iocp</c> or <c>sockets</c>.</summary>
    public const string EnvironmentVariable = "WSGEN_REACTOR";

    /// <summary>The native loop of the running platform (<see cref="DefaultKind"/>), unless
    /// <see cref="EnvironmentVariable"/> names another.</summary>
    public static IServerReactor Create(IConnectionHandler handler, ReactorOptions? options = null)
        => Create(Environment.GetEnvironmentVariable(EnvironmentVariable), handler, options);

    /// <summary>The reactor named <paramref name="kind"/> (<c>io_uring</c> or <c>iouring</c>, <c>epoll</c>, <c>kqueue</c>,
    /// <c>iocp</c>, <c>sockets</c>, case-insensitive), or the platform's default when it is null or empty.</summary>
    /// <exception cref="ArgumentException"><paramref name="kind"/> names no reactor.</exception>
    /// <exception cref="PlatformNotSupportedException">The named loop does not exist on this platform.</exception>
    public static IServerReactor Create(string? kind, IConnectionHandler handler, ReactorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        switch (Normalize(kind ?? ""))
        {
            case "":
                return Create(DefaultKind, handler, options);
            case "sockets":
                return new SocketReactor(handler, options);
            case "epoll":
                if (!EpollReactor.IsSupported)
                    throw new PlatformNotSupportedException("The epoll reactor needs Linux.");
                return new EpollReactor(handler, options);
            case "io_uring" or "iouring":
                if (!IoUringReactor.IsSupported)
                    throw new PlatformNotSupportedException("The io_uring reactor needs Linux 6.0 or later with io_uring enabled.");
                return new IoUringReactor(handler, options);
            case "kqueue":
                if (!KqueueReactor.IsSupported)
                    throw new PlatformNotSupportedException("The kqueue reactor needs 64-bit macOS or FreeBSD.");
                return new KqueueReactor(handler, options);
            case "iocp":
                if (!IocpReactor.IsSupported)
                    throw new PlatformNotSupportedException("The iocp reactor needs 64-bit Windows.");
                return new IocpReactor(handler, options);
            default:
                throw new ArgumentException($"Unknown reactor '{kind}': use 'io_uring', 'epoll', 'kqueue', 'iocp' or 'sockets'.", nameof(kind));
        }
    }

    /// <summary>The native loop of the running platform: <c>io_uring</c> on Linux when the kernel supports it, else
    /// <c>epoll</c>; <c>kqueue</c> on macOS and FreeBSD, <c>iocp</c> on Windows, <c>sockets</c> (the portable loop)
    /// elsewhere.</summary>
    public static string DefaultKind =>
        IoUringReactor.IsSupported ? "io_uring"
        : EpollReactor.IsSupported ? "epoll"
        : KqueueReactor.IsSupported ? "kqueue"
        : IocpReactor.IsSupported ? "iocp"
        : "sockets";

    private static string Normalize(string kind) => kind.Trim().ToLowerInvariant();

    /// <summary>True for the names that select <see cref="IoUringReactor"/>: <c>io_uring</c> and <c>iouring</c>.</summary>
    internal static bool IsIoUringName(string? name) => Normalize(name ?? "") is "io_uring" or "iouring";
}
