using System.Runtime.InteropServices;

namespace WsGen.Fuzz;

/// <summary>
/// An <see cref="IBytePool"/> that knows every buffer it lent: a <see cref="Put"/> of a buffer it did not lend, of a
/// slice, or of the same buffer twice throws; <see cref="Outstanding"/> counts what was not given back. Lent buffers
/// are filled with a pattern so that a reader relying on their old content shows.
/// </summary>
internal sealed class TrackingPool(int bufferSize) : IBytePool
{
    private readonly Stack<byte[]> _free = new();
    private readonly HashSet<byte[]> _lent = new(ReferenceEqualityComparer.Instance);

    public int BufferSize { get; } = bufferSize;

    public int Outstanding => _lent.Count;

    public Memory<byte> Get()
    {
        byte[] buffer = _free.Count > 0 ? _free.Pop() : new byte[BufferSize];
        buffer.AsSpan().Fill(0xEE);
        _lent.Add(buffer);
        return buffer;
    }

    public void Put(Memory<byte> buffer)
    {
        Invariant.Check(MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)buffer, out ArraySegment<byte> segment)
            && segment.Offset == 0 && segment.Count == BufferSize && _lent.Remove(segment.Array!),
            "a pooled buffer was returned twice, in part, or to the wrong pool");
        _free.Push(segment.Array!);
    }
}
