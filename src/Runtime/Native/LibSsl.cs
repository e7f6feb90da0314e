using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>
/// The one OpenSSL call WsGen makes itself, on the SSL object of a .NET <c>SslStream</c> (Linux): asking OpenSSL to
/// release a connection's record buffers while they are empty (<c>SSL_MODE_RELEASE_BUFFERS</c>), which .NET does not
/// ask for. Loaded from the libssl of the OpenSSL version .NET itself runs on (never another one, whose SSL objects
/// would differ); unavailable on other platforms.
/// </summary>
internal static unsafe class LibSsl
{
    private const int SSL_CTRL_MODE = 33;
    private const nint SSL_MODE_RELEASE_BUFFERS = 0x10;

    private static readonly delegate* unmanaged<nint, int, nint, nint, nint> s_ctrl = Load();

    /// <summary>True when libssl was found and its SSL_ctrl can be called.</summary>
    internal static bool IsAvailable => s_ctrl != null;

    /// <summary>Sets SSL_MODE_RELEASE_BUFFERS on <paramref name="ssl"/> (an SSL*); true when the mode now has it.</summary>
    internal static bool ReleaseBuffersWhenIdle(nint ssl)
    {
        if (s_ctrl == null || ssl == 0)
            return false;
        nint mode = s_ctrl(ssl, SSL_CTRL_MODE, SSL_MODE_RELEASE_BUFFERS, 0);
        return (mode & SSL_MODE_RELEASE_BUFFERS) != 0;
    }

    private static delegate* unmanaged<nint, int, nint, nint, nint> Load()
    {
        if (!OperatingSystem.IsLinux())
            return null;
        // OPENSSL_VERSION_NUMBER of the library .NET loaded: 0x3xxxxxxx for OpenSSL 3, 0x1010xxxx for 1.1.
        long version = System.Security.Cryptography.SafeEvpPKeyHandle.OpenSslVersion;
        string? name = (version >> 28) switch
        {
            3 => "libssl.so.3",
            1 when (version >> 20 & 0xFF) == 0x01 => "libssl.so.1.1",
            _ => null,
        };
        return name is not null && NativeLibrary.TryLoad(name, out nint library) && NativeLibrary.TryGetExport(library, "SSL_ctrl", out nint ctrl)
            ? (delegate* unmanaged<nint, int, nint, nint, nint>)ctrl
            : null;
    }
}
