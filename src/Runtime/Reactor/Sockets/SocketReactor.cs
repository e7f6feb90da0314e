using WsGen.Reactor;

namespace WsGen;

/// <summary>
/// A portable event loop on <see cref="System.Net.Sockets"/> (macOS, Windows, and Linux for comparison): the
/// connection state machine is <see cref="ConnectionCore{TBackend}"/>'s, as on every loop; the system calls are
/// <see cref="SocketsBackend"/>'s. Every handler callback runs on the one thread that runs the loop.
/// </summary>
internal sealed class SocketReactor : LoopReactor<SocketsBackend>
{
    /// <summary>A loop that calls <paramref name="handler"/>, with <paramref name="options"/> or the defaults.</summary>
    public SocketReactor(IConnectionHandler handler, ReactorOptions? options = null)
        : base(handler, options ??= ReactorOptions.Default, CreateBackend(handler, options))
    {
    }

    private static SocketsBackend CreateBackend(IConnectionHandler handler, ReactorOptions options)
    {
        ArgumentNullException.ThrowIfNull(handler);
        options.Validate();
        return new SocketsBackend(options);
    }
}
