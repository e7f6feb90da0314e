using System.Buffers;

namespace WsGen.Protocol;

/// <summary>
/// The output buffer of a deflater or inflater: a base array kept for the owner's lifetime (so that messages up to
/// its size allocate nothing), and above it arrays rented from <see cref="ArrayPool{T}.Shared"/> for one message,
/// given back when the next message starts.
/// </summary>
/// <remarks>Two ways to fill it: one contiguous array grown by doubling (<see cref="Start"/>, <see cref="Grow"/>: the
/// deflater, whose output is bounded by its input), or chunks of the base size (<see cref="StartChunks"/>,
/// <see cref="NextChunk"/>, <see cref="Join"/>: the inflater, whose output is not, so that a message cut off at the
/// limit has never held more than the limit plus one chunk).</remarks>
internal sealed class DeflateBuffer(int baseSize)
{
    private readonly List<byte[]> _chunks = [];
    private byte[]? _base;
    private byte[]? _rented;

    /// <summary>The size of the base array, and of every chunk.</summary>
    public int ChunkSize => baseSize;

    /// <summary>The chunks the current message holds before <see cref="Join"/> (the base array and the rented ones),
    /// in bytes: <see cref="ChunkSize"/> each.</summary>
    public int HeldChunkBytes => _base is null ? 0 : baseSize * (1 + _chunks.Count);

    /// <summary>The array in use for the current message.</summary>
    public byte[] Array => _rented ?? _base!;

    /// <summary>Starts a message that needs <paramref name="size"/> bytes (more may be asked with <see cref="Grow"/>):
    /// gives back the previous message's rented arrays.</summary>
    public byte[] Start(int size)
    {
        Release();
        _base ??= new byte[baseSize];
        if (size > _base.Length)
            _rented = ArrayPool<byte>.Shared.Rent(size);
        return Array;
    }

    /// <summary>A larger array for the current message holding its first <paramref name="used"/> bytes; at least
    /// <paramref name="size"/> bytes long.</summary>
    public byte[] Grow(int used, int size)
    {
        byte[] old = Array;
        if (size <= old.Length)
            return old;
        byte[] larger = ArrayPool<byte>.Shared.Rent(size);
        old.AsSpan(0, used).CopyTo(larger);
        if (_rented is not null)
            ArrayPool<byte>.Shared.Return(_rented);
        _rented = larger;
        return larger;
    }

    /// <summary>Starts a message written in chunks: the first chunk is the base array.</summary>
    public byte[] StartChunks()
    {
        Release();
        return _base ??= new byte[baseSize];
    }

    /// <summary>The next chunk of the current message (rented).</summary>
    public byte[] NextChunk()
    {
        byte[] chunk = ArrayPool<byte>.Shared.Rent(baseSize);
        _chunks.Add(chunk);
        return chunk;
    }

    /// <summary>The message's <paramref name="length"/> bytes in one span: the base array when they fit in it, else
    /// an array rented for the message, into which the full chunks and the last one's <paramref name="length"/>
    /// remainder are copied (the chunks go back at once).</summary>
    public Span<byte> Join(int length)
    {
        if (_chunks.Count == 0)
            return _base.AsSpan(0, length);
        _rented = ArrayPool<byte>.Shared.Rent(length);
        int at = Copy(_base!, 0, length);
        foreach (byte[] chunk in _chunks)
        {
            at = Copy(chunk, at, length);
            ArrayPool<byte>.Shared.Return(chunk);
        }
        _chunks.Clear();
        return _rented.AsSpan(0, length);
    }

    private int Copy(byte[] chunk, int at, int length)
    {
        int n = Math.Min(baseSize, length - at);
        chunk.AsSpan(0, n).CopyTo(_rented.AsSpan(at));
        return at + n;
    }

    private void Release()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }
        foreach (byte[] chunk in _chunks)
            ArrayPool<byte>.Shared.Return(chunk);
        _chunks.Clear();
    }
}
