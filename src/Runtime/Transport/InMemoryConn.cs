namespace WsGen;

/// <summary>
/// One end of an in-memory connection, a fake <see cref="INetConn"/> for tests: bytes written on one end are
/// read on the other. Thread-safe.
/// </summary>
/// <remarks>
/// <see cref="Read"/> returns <see cref="NetConn.WouldBlock"/> while nothing is buffered and 0 once the peer
/// closed and everything was read. <see cref="Write"/> takes at most what fits under the pair's capacity
/// (0 when full, like a socket that would block) and throws <see cref="IOException"/> when the peer is closed.
/// </remarks>
internal sealed class InMemoryConn : INetConn
{
    private readonly object _lock;
    private readonly int _capacity;
    private InMemoryConn _peer = null!;
    private byte[] _inbound = [];
    private int _start;
    private int _end;
    private bool _closed;

    private InMemoryConn(object gate, int capacity)
    {
        _lock = gate;
        _capacity = capacity;
    }

    /// <summary>Creates two connected ends. <paramref name="capacity"/> bounds the bytes that may wait unread
    /// in each direction (a full direction makes <see cref="Write"/> take fewer bytes, or 0).</summary>
    public static (InMemoryConn a, InMemoryConn b) CreatePair(int capacity = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        var gate = new object();
        var a = new InMemoryConn(gate, capacity);
        var b = new InMemoryConn(gate, capacity);
        a._peer = b;
        b._peer = a;
        return (a, b);
    }

    /// <inheritdoc/>
    public object? Context { get; set; }

    /// <summary>True once <see cref="Close"/> was called on this end.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_lock)
                return _closed;
        }
    }

    /// <summary>Bytes written by the peer that this end has not read yet.</summary>
    public int Available
    {
        get
        {
            lock (_lock)
                return _end - _start;
        }
    }

    /// <inheritdoc/>
    public int Read(Span<byte> buffer)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            int available = _end - _start;
            if (available == 0)
                return _peer._closed ? 0 : NetConn.WouldBlock;
            int n = Math.Min(available, buffer.Length);
            _inbound.AsSpan(_start, n).CopyTo(buffer);
            _start += n;
            if (_start == _end)
                _start = _end = 0;
            return n;
        }
    }

    /// <inheritdoc/>
    public int Write(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_peer._closed)
                throw new IOException("The peer of this in-memory connection is closed.");
            return _peer.Append(data);
        }
    }

    /// <summary>Closes this end; the peer reads what is buffered, then 0. Idempotent.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            _inbound = [];
            _start = _end = 0;
        }
    }

    /// <summary>Appends to this end's inbound bytes, up to the capacity. Called under the pair's lock.</summary>
    private int Append(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, _capacity - (_end - _start));
        if (n <= 0)
            return 0;
        if (_inbound.Length - _end < n)
        {
            int used = _end - _start;
            if (_inbound.Length - used >= n && _inbound.Length >= used * 2)
            {
                _inbound.AsSpan(_start, used).CopyTo(_inbound);
            }
            else
            {
                var bigger = new byte[Math.Max(used + n, _inbound.Length * 2)];
                _inbound.AsSpan(_start, used).CopyTo(bigger);
                _inbound = bigger;
            }

            _start = 0;
            _end = used;
        }

        data[..n].CopyTo(_inbound.AsSpan(_end));
        _end += n;
        return n;
    }
}
