using WsGen.Reactor;

namespace WsGen;

/// <summary>
/// A Linux event loop over io_uring (Linux 6.0 and later, see <see cref="IsSupported"/>). One thread runs it; every
/// handler callback runs there. The connection state machine is <see cref="ConnectionCore{TBackend}"/>'s; the ring,
/// its accepts, receives and sends are <see cref="IoUringBackend"/>'s.
/// </summary>
internal sealed class IoUringReactor : LoopReactor<IoUringBackend>
{
    /// <summary>The most slots a loop's table of direct descriptors gets: 262,144 (2 MiB of kernel memory).</summary>
    public const int MaxDirectDescriptors = 1 << 18;

    private static readonly bool s_supported = IoUringBackend.Probe();

    /// <summary>A loop that calls <paramref name="handler"/>, with <paramref name="options"/> or the defaults.</summary>
    /// <exception cref="PlatformNotSupportedException">The kernel lacks what the loop needs (<see cref="IsSupported"/>).</exception>
    public IoUringReactor(IConnectionHandler handler, ReactorOptions? options = null)
        : base(handler, options ??= ReactorOptions.Default, CreateBackend(handler, options))
    {
    }

    /// <summary>True when the kernel offers what this loop needs: io_uring (not disabled), fast poll, extended
    /// enter arguments, single-issuer rings (Linux 6.0, which also brings multishot receive) and provided buffer
    /// rings. Probed once.</summary>
    public static bool IsSupported => s_supported;

    /// <summary>Whether accepted sockets become direct descriptors (the default), when the kernel allows; read when
    /// the loop starts. Tests turn it off to cover plain descriptors.</summary>
    internal bool UseDirectDescriptors
    {
        get => Core.Backend.UseDirectDescriptors;
        set => Core.Backend.UseDirectDescriptors = value;
    }

    /// <summary>Slots in the ring's direct descriptor table; 0 when accepted sockets are plain descriptors.</summary>
    internal int DirectDescriptorSlots => Core.Backend.DirectDescriptorSlots;

    /// <summary>True while accepting waits for a free slot of the full direct descriptor table (read on the loop
    /// thread; for tests).</summary>
    internal bool AcceptWaitsForSlot => Core.Backend.AcceptWaitsForSlot;

    /// <summary>The most slots the direct descriptor table gets (it never exceeds RLIMIT_NOFILE either); read when
    /// the loop starts. Tests lower it to fill the table.</summary>
    internal int DirectDescriptorLimit
    {
        get => Core.Backend.DirectDescriptorLimit;
        set => Core.Backend.DirectDescriptorLimit = value;
    }

    private static IoUringBackend CreateBackend(IConnectionHandler handler, ReactorOptions options)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!IsSupported)
            throw new PlatformNotSupportedException("IoUringReactor needs Linux 6.0 or later with io_uring enabled.");
        options.Validate();
        return new IoUringBackend(options) { UseDirectDescriptors = true, DirectDescriptorLimit = MaxDirectDescriptors };
    }
}
