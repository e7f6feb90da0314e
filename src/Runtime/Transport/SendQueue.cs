using System.Buffers;
using System.Runtime.InteropServices;

namespace WsGen.Transport;

/// <summary>
/// The bytes of one connection that wait for its socket (backpressure): a queue of buffer segments, the first
/// taken from an optional <see cref="IBytePool"/>, the others rented from <see cref="ArrayPool{T}.Shared"/>.
/// Every buffer goes back as soon as its bytes are sent, so an empty queue holds no buffer.
/// </summary>
/// <remarks>Loops keep spare instances, so that a backpressure episode does not allocate. Not thread-safe.</remarks>
internal sealed class SendQueue
{
    private const int MinSegmentSize = 16 * 1024;
    private const int MaxSegmentSize = 1024 * 1024;

    private readonly IBytePool? _pool;
    private readonly ByteGauge? _gauge;
    private Segment[] _segments = new Segment[4];
    private int _head;
    private int _tail;
    private long _length;

    /// <summary>A queue whose first buffer comes from <paramref name="pool"/> when one is given; the bytes it holds
    /// are also counted in <paramref name="gauge"/> (the loop's total), when one is given.</summary>
    public SendQueue(IBytePool? pool, ByteGauge? gauge = null)
    {
        _pool = pool;
        _gauge = gauge;
    }

    /// <summary>The number of bytes waiting.</summary>
    public long Length => _length;

    /// <summary>True when nothing waits (and no buffer is held).</summary>
    public bool IsEmpty => _length == 0;

    /// <summary>The oldest waiting bytes (one segment's worth), to hand to the socket.</summary>
    public ReadOnlySpan<byte> First => _head == _tail ? default : _segments[_head].Unsent.Span;

    /// <summary>The oldest waiting bytes as memory, for asynchronous sends. Valid until <see cref="Consume"/>.</summary>
    public ReadOnlyMemory<byte> FirstMemory => _head == _tail ? default : _segments[_head].Unsent;

    /// <summary>Copies <paramref name="data"/> to the end of the queue.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_head == _tail || _segments[_tail - 1].Free == 0)
                AddSegment(data.Length);
            ref Segment last = ref _segments[_tail - 1];
            int n = Math.Min(last.Free, data.Length);
            data[..n].CopyTo(last.Buffer.Span[last.End..]);
            last.End += n;
            _length += n;
            _gauge?.Add(n);
            data = data[n..];
        }
    }

    /// <summary>Drops <paramref name="count"/> bytes from the front (they were sent), returning emptied buffers.</summary>
    public void Consume(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _length);
        _gauge?.Add(-count);
        while (count > 0)
        {
            ref Segment first = ref _segments[_head];
            int n = Math.Min(count, first.End - first.Start);
            first.Start += n;
            _length -= n;
            count -= n;
            if (first.Start == first.End)
                ReleaseHead();
        }
    }

    /// <summary>Drops everything and returns every buffer.</summary>
    public void Clear()
    {
        while (_head != _tail)
            ReleaseHead();
        _gauge?.Add(-_length);
        _length = 0;
    }

    private void AddSegment(int wanted)
    {
        if (_tail == _segments.Length)
        {
            if (_head > 0)
            {
                Array.Copy(_segments, _head, _segments, 0, _tail - _head);
                Array.Clear(_segments, _tail - _head, _head);
            }
            else
            {
                Array.Resize(ref _segments, _segments.Length * 2);
            }

            _tail -= _head;
            _head = 0;
        }

        Segment segment;
        if (_pool is not null && _head == _tail)
            segment = new Segment(_pool.Get(), fromPool: true);
        else
            segment = new Segment(ArrayPool<byte>.Shared.Rent(Math.Clamp(wanted, MinSegmentSize, MaxSegmentSize)), fromPool: false);
        _segments[_tail++] = segment;
    }

    private void ReleaseHead()
    {
        Segment segment = _segments[_head];
        _segments[_head] = default;
        _head++;
        if (_head == _tail)
            _head = _tail = 0;
        if (segment.FromPool)
            _pool!.Put(segment.Buffer);
        else if (MemoryMarshal.TryGetArray<byte>(segment.Buffer, out var array))
            ArrayPool<byte>.Shared.Return(array.Array!);
    }

    private struct Segment(Memory<byte> buffer, bool fromPool)
    {
        public readonly Memory<byte> Buffer = buffer;
        public readonly bool FromPool = fromPool;
        public int Start;
        public int End;

        public readonly int Free => Buffer.Length - End;

        public readonly ReadOnlyMemory<byte> Unsent => Buffer[Start..End];
    }
}
