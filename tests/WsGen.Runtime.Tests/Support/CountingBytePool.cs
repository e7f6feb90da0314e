namespace WsGen.Tests.Protocol;

/// <summary>An <see cref="IBytePool"/> that tracks every buffer it lends, reusing returned ones: a Put of a buffer it did
/// not lend, of a slice, or of the same buffer twice throws. Lent buffers are filled with 0xEE, so that a reader
/// relying on their old content shows. The fuzz targets use it too (tests/fuzz links this file).</summary>
internal sealed class CountingBytePool(int bufferSize) : IBytePool
{
    private readonly Stack<byte[]> _free = new();
    private readonly HashSet<byte[]> _lent = new(ReferenceEqualityComparer.Instance);

    public int BufferSize { get; } = bufferSize;

    public int Gets { get; private set; }

    public int Outstanding => _lent.Count;

    public Memory<byte> Get()
    {
        Gets++;
        byte[] buffer = _free.Count > 0 ? _free.Pop() : new byte[BufferSize];
        Array.Fill(buffer, (byte)0xEE);
        _lent.Add(buffer);
        return buffer;
    }

    public void Put(Memory<byte> buffer)
    {
        if (!System.Runtime.InteropServices.MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)buffer, out ArraySegment<byte> segment)
            || segment.Offset != 0 || segment.Count != BufferSize || !_lent.Remove(segment.Array!))
            throw new InvalidOperationException("Put of a buffer this pool did not lend, or twice.");
        _free.Push(segment.Array!);
    }
}
