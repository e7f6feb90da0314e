using System.Runtime.InteropServices;
using WsGen.Native;

namespace WsGen.Protocol;

/// <summary>The zlib engine's deflater: a raw stream of the given window and memory level (see <see cref="Zlib"/> for
/// its size), reset in place between messages.</summary>
internal sealed unsafe class ZlibDeflateEngine(int windowBits, int memLevel) : ZlibStream, IDeflateEngine
{
    public int Compress(ReadOnlySpan<byte> message, DeflateBuffer output)
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
        return produced;
    }

    public void Reset() => Zlib.DeflateReset(Stream());

    protected override int Init(Zlib.ZStream* stream) => Zlib.DeflateInit(stream, Deflater.Level, windowBits, memLevel);

    protected override void End(Zlib.ZStream* stream) => Zlib.DeflateEnd(stream);
}

/// <summary>The zlib engine's inflater: a raw stream for windows up to the given size, reset in place.</summary>
internal sealed unsafe class ZlibInflateEngine(int windowBits) : ZlibStream, IInflateEngine
{
    public void SetInput(byte* input, int length)
    {
        Zlib.ZStream* z = Stream();
        z->NextIn = input;
        z->AvailIn = (uint)length;
    }

    public bool HasInput => Stream()->AvailIn != 0;

    public bool SeesEndExactly => true;

    public InflateStep Inflate(Span<byte> output, out int produced)
    {
        Zlib.ZStream* z = Stream();
        fixed (byte* dest = output)
        {
            z->NextOut = dest;
            z->AvailOut = (uint)output.Length;
            try
            {
                while (true)
                {
                    int result = Zlib.Inflate(z, Zlib.SyncFlush);
                    if (result == Zlib.StreamEnd)
                        return InflateStep.End;
                    if (result is not (Zlib.Ok or Zlib.BufError))
                        return InflateStep.Error;
                    if (z->AvailOut == 0 || z->AvailIn == 0)
                        return InflateStep.Ok;
                    // Output room and input are both left, so zlib can go no further: the data is cut or wrong.
                    if (result == Zlib.BufError)
                        return InflateStep.Error;
                }
            }
            finally
            {
                produced = output.Length - (int)z->AvailOut;
                z->NextOut = null;
            }
        }
    }

    public void Reset() => Zlib.InflateReset(Stream());

    protected override int Init(Zlib.ZStream* stream) => Zlib.InflateInit(stream, windowBits);

    protected override void End(Zlib.ZStream* stream) => Zlib.InflateEnd(stream);
}
