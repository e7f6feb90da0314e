using System.Runtime.Versioning;
using WsGen.Reactor;

namespace WsGen;

/// <summary>
/// A Windows event loop over an I/O completion port (64-bit). One thread runs it; every handler callback runs there.
/// The connection state machine is <see cref="ConnectionCore{TBackend}"/>'s; the system calls are
/// <see cref="IocpBackend"/>'s.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class IocpReactor : LoopReactor<IocpBackend>
{
    /// <summary>A loop that calls <paramref name="handler"/>, with <paramref name="options"/> or the defaults.</summary>
    /// <exception cref="PlatformNotSupportedException">Not 64-bit Windows.</exception>
    public IocpReactor(IConnectionHandler handler, ReactorOptions? options = null)
        : base(handler, options ??= ReactorOptions.Default, CreateBackend(handler, options))
    {
    }

    /// <summary>True on 64-bit Windows.</summary>
    [SupportedOSPlatformGuard("windows")]
    public static bool IsSupported => OperatingSystem.IsWindows() && Environment.Is64BitProcess;

    private static IocpBackend CreateBackend(IConnectionHandler handler, ReactorOptions options)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!IsSupported)
            throw new PlatformNotSupportedException("IocpReactor needs 64-bit Windows.");
        options.Validate();
        return new IocpBackend(options);
    }
}
