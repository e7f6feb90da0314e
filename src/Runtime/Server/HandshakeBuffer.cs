using System.Buffers;

namespace WsGen.Server;

/// <summary>
/// The bytes of an upgrade request that arrived in pieces. Empty (and owning nothing) for the usual request
/// that arrives in one read, and after the handshake.
/// </summary>
internal struct HandshakeBuffer
{
    private byte[]? _buffer;
    private int _length;

    public readonly bool IsEmpty => _length == 0;

    public readonly Span<byte> Bytes => _buffer.AsSpan(0, _length);

    /// <summary>Appends as much of <paramref name="data"/> as fits in <paramref name="capacity"/> bytes and returns how much.</summary>
    public int Append(ReadOnlySpan<byte> data, int capacity)
    {
        _buffer ??= ArrayPool<byte>.Shared.Rent(capacity);
        int take = Math.Min(data.Length, Math.Min(capacity, _buffer.Length) - _length);
        data[..take].CopyTo(_buffer.AsSpan(_length));
        _length += take;
        return take;
    }

    public void Dispose()
    {
        if (_buffer is not null)
            ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
        _length = 0;
    }
}
