using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>
/// The few OpenSSL calls WsGen makes itself, on the SSL object of a .NET <c>SslStream</c> (Linux), to keep an idle
/// session small: asking OpenSSL to release the record buffers while they are empty (<c>SSL_MODE_RELEASE_BUFFERS</c>),
/// and releasing the buffers of the two memory BIOs .NET reads and writes the session's records through (a memory BIO
/// keeps the largest buffer it ever held, such as the server's whole handshake flight). .NET asks for neither.
/// Loaded from the libssl and libcrypto of the OpenSSL version .NET itself runs on (never another one, whose objects
/// would differ); unavailable on other platforms.
/// </summary>
internal static unsafe class LibSsl
{
    private const int SSL_CTRL_MODE = 33;
    private const nint SSL_MODE_RELEASE_BUFFERS = 0x10;
    private const int BIO_CTRL_PENDING = 10;
    private const int BIO_C_SET_BUF_MEM = 114;
    private const int BIO_C_GET_BUF_MEM_PTR = 115;
    private const int BIO_TYPE_MEM = 1 | 0x0400;
    private const nint BIO_CLOSE = 1;

    private static readonly Api s_api = Load();

    /// <summary>True when libssl was found and its SSL_ctrl can be called.</summary>
    internal static bool IsAvailable => s_api.SslCtrl != null;

    /// <summary>Sets SSL_MODE_RELEASE_BUFFERS on <paramref name="ssl"/> (an SSL*); true when the mode now has it.</summary>
    internal static bool ReleaseBuffersWhenIdle(nint ssl)
    {
        if (s_api.SslCtrl == null || ssl == 0)
            return false;
        nint mode = s_api.SslCtrl(ssl, SSL_CTRL_MODE, SSL_MODE_RELEASE_BUFFERS, 0);
        return (mode & SSL_MODE_RELEASE_BUFFERS) != 0;
    }

    /// <summary>Frees the buffer of each memory BIO of <paramref name="ssl"/> that holds no byte now (BIO_set_mem_buf
    /// with a new, empty BUF_MEM: the old one and its buffer go; the next write into the BIO allocates again, as large
    /// as it needs). Returns the bytes freed. Call it only between the calls .NET makes on the session.</summary>
    internal static long ReleaseIdleBioBuffers(nint ssl)
    {
        if (s_api.BufMemNew == null || ssl == 0)
            return 0;
        return Release(s_api.GetRbio(ssl)) + Release(s_api.GetWbio(ssl));

        static long Release(nint bio)
        {
            BufMem* buf = IdleBuffer(bio);
            if (buf == null || buf->Max == 0)
                return 0;
            long max = (long)buf->Max;
            nint empty = s_api.BufMemNew();
            if (empty == 0)
                return 0;
            s_api.BioCtrl(bio, BIO_C_SET_BUF_MEM, BIO_CLOSE, empty);
            return max;
        }
    }

    /// <summary>The bytes the buffers of <paramref name="ssl"/>'s memory BIOs hold allocated (what
    /// <see cref="ReleaseIdleBioBuffers"/> frees when they are empty); -1 when it cannot be known.</summary>
    internal static long BioCapacity(nint ssl)
    {
        if (s_api.BufMemNew == null || ssl == 0)
            return -1;
        BufMem* read = MemoryBuffer(s_api.GetRbio(ssl)), write = MemoryBuffer(s_api.GetWbio(ssl));
        return read == null || write == null ? -1 : (long)(read->Max + write->Max);
    }

    /// <summary>The BUF_MEM of a memory BIO that holds no byte, or null.</summary>
    private static BufMem* IdleBuffer(nint bio)
    {
        BufMem* buf = MemoryBuffer(bio);
        return buf != null && buf->Length == 0 && s_api.BioCtrl(bio, BIO_CTRL_PENDING, 0, 0) == 0 ? buf : null;
    }

    private static BufMem* MemoryBuffer(nint bio)
    {
        if (bio == 0 || s_api.BioMethodType(bio) != BIO_TYPE_MEM)
            return null;
        BufMem* buf = null;
        return s_api.BioCtrl(bio, BIO_C_GET_BUF_MEM_PTR, 0, (nint)(&buf)) > 0 ? buf : null;
    }

    /// <summary>OpenSSL's BUF_MEM (include/openssl/buffer.h), a public structure: the bytes in use, the buffer, its
    /// allocated size.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct BufMem
    {
        public nuint Length;
        public nint Data;
        public nuint Max;
        public nuint Flags;
    }

    private readonly struct Api
    {
        public delegate* unmanaged<nint, int, nint, nint, nint> SslCtrl { get; init; }
        public delegate* unmanaged<nint, nint> GetRbio { get; init; }
        public delegate* unmanaged<nint, nint> GetWbio { get; init; }
        public delegate* unmanaged<nint, int, nint, nint, nint> BioCtrl { get; init; }
        public delegate* unmanaged<nint, int> BioMethodType { get; init; }
        public delegate* unmanaged<nint> BufMemNew { get; init; }
    }

    private static Api Load()
    {
        if (!OperatingSystem.IsLinux())
            return default;
        // OPENSSL_VERSION_NUMBER of the library .NET loaded: 0x3xxxxxxx for OpenSSL 3, 0x1010xxxx for 1.1.
        long version = System.Security.Cryptography.SafeEvpPKeyHandle.OpenSslVersion;
        string? suffix = (version >> 28) switch
        {
            3 => "3",
            1 when (version >> 20 & 0xFF) == 0x01 => "1.1",
            _ => null,
        };
        if (suffix is null || !NativeLibrary.TryLoad("libssl.so." + suffix, out nint ssl)
            || !NativeLibrary.TryGetExport(ssl, "SSL_ctrl", out nint sslCtrl))
            return default;
        var api = new Api { SslCtrl = (delegate* unmanaged<nint, int, nint, nint, nint>)sslCtrl };
        // The memory BIO's BUF_MEM swap (BIO_C_SET_BUF_MEM) keeps its read position right from OpenSSL 1.1.1 on.
        if (version < 0x10101000L || !NativeLibrary.TryLoad("libcrypto.so." + suffix, out nint crypto)
            || !NativeLibrary.TryGetExport(ssl, "SSL_get_rbio", out nint getRbio)
            || !NativeLibrary.TryGetExport(ssl, "SSL_get_wbio", out nint getWbio)
            || !NativeLibrary.TryGetExport(crypto, "BIO_ctrl", out nint bioCtrl)
            || !NativeLibrary.TryGetExport(crypto, "BIO_method_type", out nint bioMethodType)
            || !NativeLibrary.TryGetExport(crypto, "BUF_MEM_new", out nint bufMemNew))
            return api;
        return api with
        {
            GetRbio = (delegate* unmanaged<nint, nint>)getRbio,
            GetWbio = (delegate* unmanaged<nint, nint>)getWbio,
            BioCtrl = (delegate* unmanaged<nint, int, nint, nint, nint>)bioCtrl,
            BioMethodType = (delegate* unmanaged<nint, int>)bioMethodType,
            BufMemNew = (delegate* unmanaged<nint>)bufMemNew,
        };
    }
}
