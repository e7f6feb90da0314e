using WsGen.Reactor;

namespace WsGen;

/// <summary>
/// A Linux event loop over epoll (level-triggered). One thread runs it (<see cref="LoopReactor{TBackend}.Run"/>);
/// every handler callback runs there. The connection state machine is <see cref="ConnectionCore{TBackend}"/>'s;
/// the system calls are <see cref="EpollBackend"/>'s.
/// </summary>
internal sealed class EpollReactor : LoopReactor<EpollBackend>
{
    /// <summary>A loop that calls <paramref name="handler"/>, with <paramref name="options"/> or the defaults.</summary>
    /// <exception cref="PlatformNotSupportedException">Not on Linux.</exception>
    public EpollReactor(IConnectionHandler handler, ReactorOptions? options = null)
        : base(handler, options ??= ReactorOptions.Default, CreateBackend(handler, options))
    {
    }

    /// <summary>True on Linux.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    private static EpollBackend CreateBackend(IConnectionHandler handler, ReactorOptions options)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!IsSupported)
            throw new PlatformNotSupportedException("EpollReactor needs Linux.");
        options.Validate();
        return new EpollBackend(options);
    }
}
