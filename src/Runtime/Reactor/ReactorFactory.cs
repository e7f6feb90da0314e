namespace WsGen;

/// <summary>Creates the reactor for the running platform.</summary>
public static class ReactorFactory
{
    /// <summary>The environment variable that overrides the choice: <c>io_uring</c> (or <c>iouring</c>),
    /// <c>epoll</c> or <c>sockets</c>.</summary>
    public const string EnvironmentVariable = "WSGEN_REACTOR";

    /// <summary>On Linux an <see cref="IoUringReactor"/> when the kernel supports it, else an
    /// <see cref="EpollReactor"/>; a <see cref="SocketReactor"/> elsewhere; unless <see cref="EnvironmentVariable"/>
    /// says otherwise.</summary>
    public static IServerReactor Create(IConnectionHandler handler, ReactorOptions? options = null)
    {
        string? choice = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.Equals(choice, "sockets", StringComparison.OrdinalIgnoreCase))
            return new SocketReactor(handler, options);
        if (string.Equals(choice, "epoll", StringComparison.OrdinalIgnoreCase))
        {
            if (!EpollReactor.IsSupported)
                throw new PlatformNotSupportedException($"{EnvironmentVariable}=epoll needs Linux.");
            return new EpollReactor(handler, options);
        }

        // io_uring (Linux): explicit choice.
        if (IsIoUringName(choice))
        {
            if (!IoUringReactor.IsSupported)
                throw new PlatformNotSupportedException($"{EnvironmentVariable}={choice} needs Linux 6.0 or later with io_uring enabled.");
            return new IoUringReactor(handler, options);
        }

        if (choice is { Length: > 0 })
            throw new ArgumentException($"{EnvironmentVariable} must be 'io_uring', 'epoll' or 'sockets', not '{choice}'.");

        // io_uring (Linux): the default when the kernel supports it.
        if (IoUringReactor.IsSupported)
            return new IoUringReactor(handler, options);
        return EpollReactor.IsSupported ? new EpollReactor(handler, options) : new SocketReactor(handler, options);
    }

    /// <summary>True for the names that select <see cref="IoUringReactor"/>: <c>io_uring</c> and <c>iouring</c>.</summary>
    internal static bool IsIoUringName(string? name)
        => string.Equals(name, "io_uring", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "iouring", StringComparison.OrdinalIgnoreCase);
}
