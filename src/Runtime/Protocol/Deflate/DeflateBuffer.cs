using System.Buffers;

namespace WsGen.Protocol;

/// <summary>
/// The output buffer of a deflater or inflater: a base array kept for the owner's lifetime (so that messages up to
/// its size allocate nothing), and above it an array rented from <see cref="ArrayPool{T}.Shared"/> for one message,
/// given back when the next message starts.
/// </summary>
internal sealed class DeflateBuffer(int baseSize)
{
    private byte[]? _base;
    private byte[]? _rented;

    /// <summary>The array in use for the current message.</summary>
    public byte[] Array => _rented ?? _base!;

    /// <summary>Starts a message that needs <paramref name="size"/> bytes (more may be asked with <see cref="Grow"/>):
    /// gives back the previous message's rented array.</summary>
    public byte[] Start(int size)
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }
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
}
