namespace WsGen;

/// <summary>Creates the reactor for the running platform.</summary>
public static class ReactorFactory
{
    /// <summary>The environment variable that overrides the choice: <c>epoll</c> or <c>sockets</c>.</summary>
    public const string EnvironmentVariable = "WSGEN_REACTOR";

    /// <summary>An <see cref="EpollReactor"/> on Linux, a <see cref="SocketReactor"/> elsewhere, unless
    /// <see cref="EnvironmentVariable"/> says otherwise.</summary>
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

        if (choice is { Length: > 0 })
            throw new ArgumentException($"{EnvironmentVariable} must be 'epoll' or 'sockets', not '{choice}'.");
        return EpollReactor.IsSupported ? new EpollReactor(handler, options) : new SocketReactor(handler, options);
    }
}
