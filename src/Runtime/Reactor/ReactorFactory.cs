namespace WsGen;

/// <summary>Creates the reactor for the running platform.</summary>
public static class ReactorFactory
{
    /// <summary>The environment variable that overrides the choice: <c>epoll</c>, <c>kqueue</c>, <c>iocp</c> or
    /// <c>sockets</c>.</summary>
    public const string EnvironmentVariable = "WSGEN_REACTOR";

    /// <summary>The native loop of the running platform (<see cref="DefaultKind"/>), unless
    /// <see cref="EnvironmentVariable"/> names another.</summary>
    public static IServerReactor Create(IConnectionHandler handler, ReactorOptions? options = null)
        => Create(Environment.GetEnvironmentVariable(EnvironmentVariable), handler, options);

    /// <summary>The reactor named <paramref name="kind"/> (<c>epoll</c>, <c>kqueue</c>, <c>iocp</c>, <c>sockets</c>,
    /// case-insensitive), or the platform's default when it is null or empty.</summary>
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
            // io_uring: IoUringReactor ("io_uring") is added here by its own change.
            case "kqueue":
                if (!KqueueReactor.IsSupported)
                    throw new PlatformNotSupportedException("The kqueue reactor needs 64-bit macOS or FreeBSD.");
                return new KqueueReactor(handler, options);
            case "iocp":
                if (!IocpReactor.IsSupported)
                    throw new PlatformNotSupportedException("The iocp reactor needs 64-bit Windows.");
                return new IocpReactor(handler, options);
            default:
                throw new ArgumentException($"Unknown reactor '{kind}': use 'epoll', 'kqueue', 'iocp' or 'sockets'.", nameof(kind));
        }
    }

    /// <summary>The native loop of the running platform: <c>epoll</c> on Linux, <c>kqueue</c> on macOS and
    /// FreeBSD, <c>iocp</c> on Windows, <c>sockets</c> (the portable loop) elsewhere.</summary>
    public static string DefaultKind =>
        EpollReactor.IsSupported ? "epoll"
        : KqueueReactor.IsSupported ? "kqueue"
        : IocpReactor.IsSupported ? "iocp"
        : "sockets";

    private static string Normalize(string kind) => kind.Trim().ToLowerInvariant();
}
