namespace WsGen;

/// <summary>Chooses and creates the loop: the one place that knows which loops exist, their names, and which one is
/// the platform's default.</summary>
internal static class ReactorFactory
{
    /// <summary>The environment variable that picks the loop when the options leave it at
    /// <see cref="WebSocketLoop.Default"/>: <c>io_uring</c> (or <c>iouring</c>), <c>epoll</c>, <c>kqueue</c>,
    /// <c>iocp</c> or <c>sockets</c>, case-insensitive.</summary>
    public const string EnvironmentVariable = "WSGEN_REACTOR";

    private const string KnownNames = "'io_uring', 'epoll', 'kqueue', 'iocp' or 'sockets'";

    /// <summary>The loop to run: <paramref name="requested"/> when it names one; else the loop
    /// <see cref="EnvironmentVariable"/> names; else <see cref="DefaultLoop"/> for <paramref name="target"/>.</summary>
    /// <exception cref="ArgumentException">The environment variable names no loop.</exception>
    public static WebSocketLoop Resolve(WebSocketLoop requested, GeneratedTarget target = GeneratedTarget.Any)
    {
        if (requested != WebSocketLoop.Default)
            return Defined(requested);
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(fromEnvironment))
            return DefaultLoop(target);
        if (TryParse(fromEnvironment, out var loop))
            return loop;
        throw new ArgumentException($"Unknown reactor '{fromEnvironment}' in the environment variable {EnvironmentVariable}: use {KnownNames}.");
    }

    /// <summary>
    /// The platform's default loop, the only place that decides it: io_uring on Linux when the kernel supports it, else
    /// epoll; kqueue on macOS and FreeBSD, IOCP on Windows; the portable sockets loop where no native loop runs (a
    /// 32-bit process, another OS). <paramref name="target"/> is what the build knew (the generated code passes its
    /// RuntimeIdentifier's OS): only that OS's loops are considered; <see cref="GeneratedTarget.Any"/> considers all.
    /// </summary>
    public static WebSocketLoop DefaultLoop(GeneratedTarget target = GeneratedTarget.Any)
    {
        bool any = target == GeneratedTarget.Any;
        if (any || target == GeneratedTarget.Linux)
        {
            if (IoUringReactor.IsSupported)
                return WebSocketLoop.IoUring;
            if (EpollReactor.IsSupported)
                return WebSocketLoop.Epoll;
        }
        if ((any || target == GeneratedTarget.Bsd) && KqueueReactor.IsSupported)
            return WebSocketLoop.Kqueue;
        if ((any || target == GeneratedTarget.Windows) && IocpReactor.IsSupported)
            return WebSocketLoop.Iocp;
        return WebSocketLoop.Sockets;
    }

    /// <summary>The loop a name selects: <c>io_uring</c> or <c>iouring</c>, <c>epoll</c>, <c>kqueue</c>, <c>iocp</c>,
    /// <c>sockets</c>; case-insensitive, surrounding blanks ignored.</summary>
    public static bool TryParse(string? name, out WebSocketLoop loop)
    {
        loop = (name ?? "").Trim().ToLowerInvariant() switch
        {
            "io_uring" or "iouring" => WebSocketLoop.IoUring,
            "epoll" => WebSocketLoop.Epoll,
            "kqueue" => WebSocketLoop.Kqueue,
            "iocp" => WebSocketLoop.Iocp,
            "sockets" => WebSocketLoop.Sockets,
            _ => WebSocketLoop.Default,
        };
        return loop != WebSocketLoop.Default;
    }

    /// <summary>The loop's name, as <see cref="TryParse"/> reads it and <see cref="WebSocketServer.ReactorName"/> shows it.</summary>
    public static string NameOf(WebSocketLoop loop) => Defined(loop) switch
    {
        WebSocketLoop.IoUring => "io_uring",
        WebSocketLoop.Epoll => "epoll",
        WebSocketLoop.Kqueue => "kqueue",
        WebSocketLoop.Iocp => "iocp",
        WebSocketLoop.Sockets => "sockets",
        _ => "default",
    };

    /// <summary>The name of the loop <paramref name="reactor"/> runs.</summary>
    public static string NameOf(IServerReactor reactor) => reactor switch
    {
        IoUringReactor => NameOf(WebSocketLoop.IoUring),
        EpollReactor => NameOf(WebSocketLoop.Epoll),
        KqueueReactor => NameOf(WebSocketLoop.Kqueue),
        IocpReactor => NameOf(WebSocketLoop.Iocp),
        SocketReactor => NameOf(WebSocketLoop.Sockets),
        _ => reactor.GetType().Name,
    };

    /// <summary>Creates <paramref name="loop"/> (<see cref="WebSocketLoop.Default"/>: <see cref="DefaultLoop"/>).</summary>
    /// <exception cref="PlatformNotSupportedException">The loop does not exist on this platform.</exception>
    public static IServerReactor Create(WebSocketLoop loop, IConnectionHandler handler, ReactorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        switch (Defined(loop))
        {
            case WebSocketLoop.Default:
                return Create(DefaultLoop(), handler, options);
            case WebSocketLoop.Sockets:
                return new SocketReactor(handler, options);
            case WebSocketLoop.Epoll:
                if (!EpollReactor.IsSupported)
                    throw new PlatformNotSupportedException("The epoll reactor needs Linux.");
                return new EpollReactor(handler, options);
            case WebSocketLoop.IoUring:
                if (!IoUringReactor.IsSupported)
                    throw new PlatformNotSupportedException("The io_uring reactor needs Linux 6.0 or later with io_uring enabled.");
                return new IoUringReactor(handler, options);
            case WebSocketLoop.Kqueue:
                if (!KqueueReactor.IsSupported)
                    throw new PlatformNotSupportedException("The kqueue reactor needs 64-bit macOS or FreeBSD.");
                return new KqueueReactor(handler, options);
            default:
                if (!IocpReactor.IsSupported)
                    throw new PlatformNotSupportedException("The iocp reactor needs 64-bit Windows.");
                return new IocpReactor(handler, options);
        }
    }

    /// <summary>The loop <see cref="EnvironmentVariable"/> names, else the platform's default.</summary>
    public static IServerReactor Create(IConnectionHandler handler, ReactorOptions? options = null)
        => Create(Resolve(WebSocketLoop.Default), handler, options);

    /// <summary>The loop named <paramref name="kind"/> (see <see cref="TryParse"/>), or the platform's default when it
    /// is null or empty.</summary>
    /// <exception cref="ArgumentException"><paramref name="kind"/> names no loop.</exception>
    public static IServerReactor Create(string? kind, IConnectionHandler handler, ReactorOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(kind))
            return Create(WebSocketLoop.Default, handler, options);
        if (!TryParse(kind, out var loop))
            throw new ArgumentException($"Unknown reactor '{kind}': use {KnownNames}.", nameof(kind));
        return Create(loop, handler, options);
    }

    /// <summary>The name of <see cref="DefaultLoop"/>.</summary>
    public static string DefaultKind => NameOf(DefaultLoop());

    private static WebSocketLoop Defined(WebSocketLoop loop) =>
        Enum.IsDefined(loop) ? loop : throw new ArgumentOutOfRangeException(nameof(loop), loop, "No such WebSocketLoop.");
}
