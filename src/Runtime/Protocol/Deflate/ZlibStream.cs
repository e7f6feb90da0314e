using WsGen.Native;

namespace WsGen.Protocol;

/// <summary>
/// A zlib stream made on first use (so that a connection that never compresses pays nothing) and kept in native
/// memory until <see cref="Dispose"/>, or the finalizer for one that was forgotten: the common part of the zlib
/// engine's deflater and inflater (<see cref="ZlibDeflateEngine"/>, <see cref="ZlibInflateEngine"/>).
/// </summary>
internal abstract unsafe class ZlibStream : IDisposable
{
    private Zlib.ZStream* _stream;

    ~ZlibStream() => Free();

    /// <summary>The stream, initialized by <see cref="Init"/> on the first call.</summary>
    protected Zlib.ZStream* Stream()
    {
        if (_stream is not null)
            return _stream;
        var z = Zlib.AllocStream();
        int result = Init(z);
        if (result != Zlib.Ok)
        {
            Zlib.FreeStream(z);
            throw new InvalidOperationException($"zlib could not initialize a stream ({result}).");
        }
        _stream = z;
        return z;
    }

    /// <summary>deflateInit2 or inflateInit2 on <paramref name="stream"/>; returns zlib's result.</summary>
    protected abstract int Init(Zlib.ZStream* stream);

    /// <summary>deflateEnd or inflateEnd on <paramref name="stream"/>.</summary>
    protected abstract void End(Zlib.ZStream* stream);

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_stream is null)
            return;
        End(_stream);
        Zlib.FreeStream(_stream);
        _stream = null;
    }
}
