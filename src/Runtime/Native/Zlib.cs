using System.Runtime.InteropServices;

namespace WsGen.Native;

/// <summary>The platform's zlib (<c>libz.so.1</c> on Linux, <c>libz.dylib</c> on macOS), the engine of
/// permessage-deflate: raw deflate streams with a chosen window, reset between messages, and sync flush.</summary>
/// <remarks>
/// <para>Why zlib and not <see cref="System.IO.Compression.DeflateStream"/>: RFC 7692 needs the window size of each
/// direction (<c>*_max_window_bits</c>), a reset between messages without freeing the state (no context takeover,
/// and one shared deflater per loop), and a sync flush whose 4-byte tail is dropped. DeflateStream (and ZLibStream)
/// in .NET 10 offers none of the window size, the reset or a stream over spans, and would allocate a stream per
/// message. zlib-ng inside <c>libSystem.IO.Compression.Native</c> has all of it, but behind an internal ABI of the
/// runtime (its own stream struct, not exported to other assemblies under Native AOT). So the platform's own zlib is
/// called directly, as uWebSockets and npm ws (through Node's zlib) do. Where it is missing (Windows has no system
/// zlib), <see cref="IsAvailable"/> is false and permessage-deflate runs on DeflateStream instead, with what it cannot
/// do declined or paid for (see <see cref="WsGen.Protocol.DeflateEngine"/>).</para>
/// <para>Memory per stream, from zlib's documentation: a deflater needs <c>2^(windowBits+2) + 2^(memLevel+9)</c> bytes
/// (256 KiB at window 15, memLevel 8) and an inflater <c>2^windowBits</c> plus about 7 KiB (39 KiB at window 15). The
/// state is allocated by zlib with malloc, outside the managed heap. The stream structure itself must not move while
/// zlib holds it (zlib keeps a pointer back to it), so it lives in native memory too (<see cref="ZStream"/>).</para>
/// </remarks>
internal static unsafe partial class Zlib
{
    private const string LibraryName = "libz";

    public const int Ok = 0;
    public const int StreamEnd = 1;
    public const int NeedDict = 2;
    public const int BufError = -5;
    public const int DataError = -3;

    public const int NoFlush = 0;
    public const int SyncFlush = 2;

    public const int Deflated = 8;
    public const int DefaultStrategy = 0;

    /// <summary>The version string passed to the init calls: zlib checks its first digit and the struct size only.</summary>
    private static ReadOnlySpan<byte> Version => "1.2.11\0"u8;

    static Zlib()
    {
        NativeLibrary.SetDllImportResolver(typeof(Zlib).Assembly, Resolve);
    }

    /// <summary>True when the platform's zlib could be loaded.</summary>
    public static bool IsAvailable { get; } = Probe();

    private static bool Probe()
    {
        foreach (string name in Candidates)
        {
            if (NativeLibrary.TryLoad(name, out _))
                return true;
        }
        return false;
    }

    private static string[] Candidates =>
        OperatingSystem.IsWindows() ? ["zlib1.dll", "zlib.dll"]
        : OperatingSystem.IsMacOS() || OperatingSystem.IsIOS() ? ["libz.dylib", "libz.1.dylib"]
        : ["libz.so.1", "libz.so"];

    private static IntPtr Resolve(string name, System.Reflection.Assembly assembly, DllImportSearchPath? path)
    {
        if (name != LibraryName)
            return IntPtr.Zero;
        foreach (string candidate in Candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle))
                return handle;
        }
        return IntPtr.Zero;
    }

    /// <summary>zlib's <c>z_stream</c>: <c>uLong</c> is <see cref="CULong"/> (4 bytes on Windows, 8 on 64-bit Unix).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public CULong TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public CULong TotalOut;
        public byte* Msg;
        public void* State;
        public void* ZAlloc;
        public void* ZFree;
        public void* Opaque;
        public int DataType;
        public CULong Adler;
        public CULong Reserved;
    }

    /// <summary>A zeroed <see cref="ZStream"/> in native memory (it must not move while zlib uses it).</summary>
    public static ZStream* AllocStream() => (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));

    public static void FreeStream(ZStream* stream) => NativeMemory.Free(stream);

    /// <summary>A raw deflater (negative window bits: no zlib header) of <paramref name="windowBits"/> (9-15).</summary>
    public static int DeflateInit(ZStream* stream, int level, int windowBits, int memLevel)
    {
        fixed (byte* version = Version)
            return deflateInit2_(stream, level, Deflated, -windowBits, memLevel, DefaultStrategy, version, sizeof(ZStream));
    }

    /// <summary>A raw inflater of <paramref name="windowBits"/> (8-15).</summary>
    public static int InflateInit(ZStream* stream, int windowBits)
    {
        fixed (byte* version = Version)
            return inflateInit2_(stream, -windowBits, version, sizeof(ZStream));
    }

    [LibraryImport(LibraryName)]
    private static partial int deflateInit2_(ZStream* stream, int level, int method, int windowBits, int memLevel, int strategy, byte* version, int streamSize);

    [LibraryImport(LibraryName, EntryPoint = "deflate")]
    public static partial int Deflate(ZStream* stream, int flush);

    [LibraryImport(LibraryName, EntryPoint = "deflateReset")]
    public static partial int DeflateReset(ZStream* stream);

    [LibraryImport(LibraryName, EntryPoint = "deflateEnd")]
    public static partial int DeflateEnd(ZStream* stream);

    [LibraryImport(LibraryName, EntryPoint = "deflateBound")]
    public static partial CULong DeflateBound(ZStream* stream, CULong sourceLength);

    [LibraryImport(LibraryName)]
    private static partial int inflateInit2_(ZStream* stream, int windowBits, byte* version, int streamSize);

    [LibraryImport(LibraryName, EntryPoint = "inflate")]
    public static partial int Inflate(ZStream* stream, int flush);

    [LibraryImport(LibraryName, EntryPoint = "inflateReset")]
    public static partial int InflateReset(ZStream* stream);

    [LibraryImport(LibraryName, EntryPoint = "inflateEnd")]
    public static partial int InflateEnd(ZStream* stream);
}
