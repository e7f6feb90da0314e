using System.Runtime.InteropServices;
using WsGen.Native;

namespace WsGen.Protocol;

/// <summary>
/// Compresses whole messages as RFC 7692 section 7.2.1 asks: raw deflate ended by a sync flush, whose empty stored
/// block's 4-byte tail (00 00 FF FF) is removed. The zlib state (see <see cref="Zlib"/> for its size) is made on
/// first use and lives in native memory until <see cref="ZlibStream.Dispose"/> (or the finalizer, for one that was forgotten).
/// </summary>
internal sealed unsafe class Deflater(int windowBits, int memLevel) : ZlibStream
{
    /// <summary>zlib's default level (6): the level uWebSockets and npm ws use, so the bytes on the wire compare.</summary>
    public const int Level = 6;

    /// <summary>The LZ77 window: 9 to 15 bits (zlib cannot make a raw stream of window 8).</summary>
    public int WindowBits { get; } = windowBits;

    /// <summary>Compresses <paramref name="message"/> (not empty) into <paramref name="output"/>; with
    /// <paramref name="reset"/>, the next message starts from an empty window (no context takeover).</summary>
    /// <returns>The compressed message, in <paramref name="output"/>'s array.</returns>
    public ReadOnlySpan<byte> Compress(ReadOnlySpan<byte> message, DeflateBuffer output, bool reset)
    {
        Zlib.ZStream* z = Stream();
        // deflateBound covers Z_FINISH; a sync flush adds an empty stored block (5 bytes) and may add a few bits more.
        int bound = (int)Math.Min(int.MaxValue - 64L, (long)Zlib.DeflateBound(z, new CULong((nuint)message.Length)).Value) + 16;
        byte[] buffer = output.Start(bound);
        int produced = 0;
        fixed (byte* input = message)
        {
            z->NextIn = input;
            z->AvailIn = (uint)message.Length;
            while (true)
            {
                fixed (byte* dest = buffer)
                {
                    z->NextOut = dest + produced;
                    z->AvailOut = (uint)(buffer.Length - produced);
                    int result = Zlib.Deflate(z, Zlib.SyncFlush);
                    produced = buffer.Length - (int)z->AvailOut;
                    if (result is not (Zlib.Ok or Zlib.BufError))
                        throw new InvalidOperationException($"zlib deflate failed ({result}).");
                }
                if (z->AvailOut != 0)
                    break;
                buffer = output.Grow(produced, buffer.Length * 2);
            }
            z->NextIn = null;
            z->NextOut = null;
        }
        if (reset)
            Zlib.DeflateReset(z);
        // The sync flush always ends with the empty stored block's 00 00 FF FF.
        return buffer.AsSpan(0, produced - 4);
    }

    protected override int Init(Zlib.ZStream* stream) => Zlib.DeflateInit(stream, Level, WindowBits, memLevel);

    protected override void End(Zlib.ZStream* stream) => Zlib.DeflateEnd(stream);
}
