using System.Runtime.Versioning;
using WsGen.Reactor;

namespace WsGen;

/// <summary>
/// An event loop over kqueue (macOS, FreeBSD; 64-bit). One thread runs it; every handler callback runs there. The
/// connection state machine is <see cref="ConnectionCore{TBackend}"/>'s; the system calls are
/// <see cref="KqueueBackend"/>'s.
/// </summary>
[SupportedOSPlatform("macos")]
[SupportedOSPlatform("freebsd")]
internal sealed class KqueueReactor : LoopReactor<KqueueBackend>
{
    /// <summary>A loop that calls <paramref name="handler"/>, with <paramref name="options"/> or the defaults.</summary>
    /// <exception cref="PlatformNotSupportedException">Neither 64-bit macOS nor 64-bit FreeBSD.</exception>
    public KqueueReactor(IConnectionHandler handler, ReactorOptions? options = null)
        : base(handler, options ??= ReactorOptions.Default, CreateBackend(handler, options))
    {
    }

    /// <summary>True on 64-bit macOS and FreeBSD.</summary>
    [SupportedOSPlatformGuard("macos")]
    [SupportedOSPlatformGuard("freebsd")]
    public static bool IsSupported => (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()) && Environment.Is64BitProcess;

    private static KqueueBackend CreateBackend(IConnectionHandler handler, ReactorOptions options)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!IsSupported)
            throw new PlatformNotSupportedException("KqueueReactor needs macOS or FreeBSD (64-bit).");
        options.Validate();
        return new KqueueBackend(options);
    }
}
