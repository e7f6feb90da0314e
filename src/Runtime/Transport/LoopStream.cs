using System.Buffers;
using System.Threading.Tasks.Sources;

namespace WsGen.Transport;

/// <summary>
/// The stream a <see cref="TlsTransform"/>'s <see cref="System.Net.Security.SslStream"/> runs over: the loop feeds it
/// the bytes it received, and what the TLS engine writes goes straight to the connection's socket through the
/// transform's host. Nothing here blocks or starts a thread.
/// </summary>
/// <remarks>
/// <para>A read completes synchronously while fed bytes are buffered. Otherwise it waits on one reusable
/// <see cref="IValueTaskSource{TResult}"/> (no allocation), which the next <see cref="Feed"/> completes on the loop
/// thread; the engine's continuation runs inline, in that call. A zero-byte read waits without a buffer and completes
/// with 0 once bytes are there, so that the engine rents its own buffer only when input arrives.</para>
/// <para>The reads that run inside <see cref="Feed"/> (the engine's continuation, inline) take the fed bytes where
/// they are, in the loop's receive buffer. Fed bytes that no read took by the end of the call wait in a buffer rented
/// from <see cref="ArrayPool{T}.Shared"/>, returned as soon as it is empty: an idle stream holds no buffer.</para>
/// </remarks>
internal sealed unsafe class LoopStream(TlsTransform owner) : Stream, IValueTaskSource<int>
{
    private ManualResetValueTaskSourceCore<int> _read;
    private Memory<byte> _readBuffer;
    private bool _reading;
    private bool _ended;
    private byte[]? _input;
    private int _start;
    private int _end;
    private byte* _lent;
    private int _lentLength;

    /// <summary>Bytes fed that no read took yet.</summary>
    internal int Buffered => _end - _start + _lentLength;

    /// <summary>Bytes received from the socket: they complete the read that waits, and the rest waits for the next
    /// reads (each completes synchronously).</summary>
    internal void Feed(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || _ended)
            return;
        if (!_reading || _end > _start)
        {
            Append(data);
            if (_reading)
                CompleteRead();
            return;
        }

        // The waiting read, and the ones its continuation makes during this call, take the bytes where they are.
        fixed (byte* bytes = data)
        {
            _lent = bytes;
            _lentLength = data.Length;
            CompleteRead();
            int rest = _lentLength;
            _lent = null;
            _lentLength = 0;
            if (rest > 0 && !_ended)
                Append(data[^rest..]);
        }
    }

    /// <summary>No byte will come any more (the connection ended): the read that waits, and every later one, returns
    /// 0, and the buffered bytes are dropped.</summary>
    internal void End()
    {
        _ended = true;
        _lent = null;
        _lentLength = 0;
        ReleaseInput();
        if (_reading)
            CompleteRead();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_reading)
            throw new InvalidOperationException("One read at a time.");
        if (Buffered > 0 || _ended)
            return new ValueTask<int>(Take(buffer.Span));
        _readBuffer = buffer;
        _reading = true;
        _read.Reset();
        return new ValueTask<int>(this, _read.Version);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("The loop's stream is read asynchronously.");

    public override void Write(ReadOnlySpan<byte> buffer) => owner.SendEncoded(buffer);

    public override void Write(byte[] buffer, int offset, int count) => owner.SendEncoded(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        owner.SendEncoded(buffer.Span);
        return default;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        owner.SendEncoded(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    int IValueTaskSource<int>.GetResult(short token) => _read.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _read.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            End();
        base.Dispose(disposing);
    }

    /// <summary>Completes the waiting read with what is buffered (0 for a zero-byte read); its continuation runs
    /// now, on this thread, and may read again.</summary>
    private void CompleteRead()
    {
        Memory<byte> buffer = _readBuffer;
        _readBuffer = default;
        _reading = false;
        _read.SetResult(Take(buffer.Span));
    }

    private int Take(Span<byte> destination)
    {
        if (_lentLength > 0)
        {
            int lent = Math.Min(destination.Length, _lentLength);
            new ReadOnlySpan<byte>(_lent, lent).CopyTo(destination);
            _lent += lent;
            _lentLength -= lent;
            return lent;
        }

        int n = Math.Min(destination.Length, _end - _start);
        if (n == 0)
            return 0;
        _input.AsSpan(_start, n).CopyTo(destination);
        _start += n;
        if (_start == _end)
            ReleaseInput();
        return n;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        int buffered = _end - _start;
        if (_input is null || _input.Length - _end < data.Length)
        {
            byte[] next = _input is not null && _input.Length >= buffered + data.Length
                ? _input
                : ArrayPool<byte>.Shared.Rent(Math.Max(buffered + data.Length, 4096));
            _input?.AsSpan(_start, buffered).CopyTo(next);
            if (_input is not null && next != _input)
                ArrayPool<byte>.Shared.Return(_input);
            _input = next;
            _start = 0;
            _end = buffered;
        }

        data.CopyTo(_input.AsSpan(_end));
        _end += data.Length;
    }

    private void ReleaseInput()
    {
        if (_input is not null)
            ArrayPool<byte>.Shared.Return(_input);
        _input = null;
        _start = _end = 0;
    }
}
