using System.Runtime.InteropServices;

namespace WsGen.Reactor;

/// <summary>Gathered output: writes to connections other than the one whose callback runs wait until the end of the
/// loop's turn, and each connection gets them with one send.</summary>
/// <remarks>
/// <para>A publish to many subscribers, or a handler that writes to other connections, would otherwise cost a system
/// call per write on a readiness backend (a submission per write on io_uring). Instead the bytes are copied into the
/// loop's gather buffer, chained per connection, and <see cref="ILoopHost.EndTurn"/> hands each connection its chain
/// through the cork: one send per connection and turn, as a callback's own writes get. Bytes written to many
/// connections (<see cref="WriteShared"/>, a publish) are copied once, and each connection's chain refers to them.</para>
/// <para>Order is kept: a connection's gathered bytes go out before anything written to it later (its cork at the
/// end of its own callback, a large write, a close). They count in <see cref="WaitingBytes"/>, so backpressure and
/// the publish limit see them. A connection with more than <see cref="GatherLimit"/> bytes gathered, or a full
/// gather buffer, is sent at once; a write larger than the limit is not gathered. Only a running loop gathers: before
/// <see cref="Run"/> and after it, writes go straight to the socket.</para>
/// </remarks>
internal sealed unsafe partial class ConnectionCore<TBackend>
{
    /// <summary>The most bytes one connection gathers before they are sent without waiting for the end of the turn.</summary>
    internal const int GatherLimit = 64 * 1024;

    /// <summary>The gather buffer's first size; it doubles as needed up to <see cref="MaxGatherBuffer"/>.</summary>
    private const int FirstGatherBuffer = 64 * 1024;

    /// <summary>The largest gather buffer: when it is full, everything gathered is sent before the turn ends.</summary>
    private const int MaxGatherBuffer = 4 * 1024 * 1024;

    private byte* _gather;
    private int _gatherSize;
    private int _gatherLength;
    private Piece[] _pieces = [];
    private int _pieceCount;
    private Chain[] _chains = [];
    private LoopConnection<TBackend>[] _gathered = [];
    private int _gatheredCount;

    /// <summary>Counts the times the gather buffer was emptied: a <see cref="SharedBytes"/> of an earlier count no
    /// longer holds.</summary>
    private int _gatherEpoch = 1;

    /// <summary>Bytes gathered for <paramref name="conn"/> and not sent yet.</summary>
    private int GatheredBytes(LoopConnection<TBackend> conn) => (conn.Flags & ConnFlags.Gathered) != 0 ? _chains[conn.Slot].Bytes : 0;

    /// <summary>Gathers <paramref name="data"/> for <paramref name="conn"/> (open, not corked, on the running loop's
    /// thread), behind what it gathered before. False when the connection ended meanwhile.</summary>
    private bool Gather(LoopConnection<TBackend> conn, ReadOnlySpan<byte> data)
    {
        if (!MakeRoom(conn, data.Length, copy: true))
            return false;
        int offset = _gatherLength;
        data.CopyTo(new Span<byte>(_gather + offset, data.Length));
        _gatherLength = offset + data.Length;
        Link(conn, offset, data.Length);
        return true;
    }

    /// <summary>Writes <paramref name="data"/>, bytes that this turn writes to many connections (a published frame),
    /// to <paramref name="conn"/> as <see cref="Write"/> does, but gathered by reference: the first connection copies
    /// them into the gather buffer (where <paramref name="shared"/> remembers them), the others link to that copy.</summary>
    /// <remarks>The bytes of consecutive shared writes lie next to each other in the gather buffer, so a connection
    /// that gets every message of a turn has one piece for all of them: one copy into the cork and one send.</remarks>
    internal int WriteShared(LoopConnection<TBackend> conn, ReadOnlySpan<byte> data, ref SharedBytes shared)
    {
        if (conn == _corked || (conn.Flags & ConnFlags.Transformed) != 0 || data.Length > GatherLimit
            || _loop.LoopThreadId == 0 || _loop.IsOtherThreadWhileRunning || conn.State != LoopConnState.Open || data.IsEmpty)
        {
            return Write(conn, data);
        }

        bool copy = shared.Epoch != _gatherEpoch;
        if (!MakeRoom(conn, data.Length, copy))
            return 0;
        if (copy)
        {
            shared = new SharedBytes(_gatherLength, _gatherEpoch);
            data.CopyTo(new Span<byte>(_gather + _gatherLength, data.Length));
            _gatherLength += data.Length;
        }

        Link(conn, shared.Offset, data.Length);
        return data.Length;
    }

    /// <summary>Before <paramref name="length"/> more bytes are gathered for <paramref name="conn"/>: sends what it
    /// gathered when they would pass <see cref="GatherLimit"/>, and, when they are to be <paramref name="copy"/>'d,
    /// makes room in the gather buffer (growing it, or sending everything gathered). False when the connection ended
    /// meanwhile.</summary>
    private bool MakeRoom(LoopConnection<TBackend> conn, int length, bool copy)
    {
        if ((conn.Flags & ConnFlags.Gathered) != 0 && _chains[conn.Slot].Bytes + length > GatherLimit)
        {
            SendGathered(conn);
            if (conn.State != LoopConnState.Open)
                return false;
        }

        if (copy && _gatherLength + length > _gatherSize && !GrowGatherBuffer(length))
        {
            FlushGathered();
            if (conn.State != LoopConnState.Open)
                return false;
        }

        return true;
    }

    /// <summary>Puts the <paramref name="length"/> bytes at <paramref name="offset"/> of the gather buffer behind what
    /// <paramref name="conn"/> gathered before.</summary>
    private void Link(LoopConnection<TBackend> conn, int offset, int length)
    {
        if ((conn.Flags & ConnFlags.Gathered) == 0)
        {
            conn.Flags |= ConnFlags.Gathered;
            if (_chains.Length <= conn.Slot)
                Array.Resize(ref _chains, Math.Max(conn.Slot + 1, _chains.Length * 2));
            int first = AddPiece(offset, length);
            _chains[conn.Slot] = new Chain { First = first, Last = first, Bytes = length };
            if (_gatheredCount == _gathered.Length)
                Array.Resize(ref _gathered, Math.Max(16, _gathered.Length * 2));
            _gathered[_gatheredCount++] = conn;
            return;
        }

        ref Chain chain = ref _chains[conn.Slot];
        chain.Bytes += length;
        ref Piece last = ref _pieces[chain.Last];
        if (last.Offset + last.Length == offset)
        {
            last.Length += length;      // the connection's previous bytes are just before: one piece
            return;
        }

        int piece = AddPiece(offset, length);
        _pieces[chain.Last].Next = piece;
        chain.Last = piece;
    }

    private int AddPiece(int offset, int length)
    {
        if (_pieceCount == _pieces.Length)
            Array.Resize(ref _pieces, Math.Max(256, _pieces.Length * 2));
        _pieces[_pieceCount] = new Piece { Offset = offset, Length = length, Next = -1 };
        return _pieceCount++;
    }

    /// <summary>Makes room for <paramref name="length"/> more bytes; false when the buffer is at its largest.</summary>
    private bool GrowGatherBuffer(int length)
    {
        int size = Math.Max(_gatherSize, FirstGatherBuffer);
        while (size < _gatherLength + length)
            size *= 2;
        if (size > MaxGatherBuffer)
            return _gatherSize >= _gatherLength + length;
        _gather = (byte*)NativeMemory.Realloc(_gather, (nuint)size);
        _gatherSize = size;
        return true;
    }

    /// <summary>Sends every connection's gathered bytes, one send each (fewer when the socket does not take them
    /// all), and empties the gather buffer.</summary>
    private void FlushGathered()
    {
        // A connection may be listed twice (sent early, then gathered again): its flag tells whether bytes wait.
        for (int i = 0; i < _gatheredCount; i++)
        {
            LoopConnection<TBackend> conn = _gathered[i];
            _gathered[i] = null!;
            if ((conn.Flags & ConnFlags.Gathered) != 0)
                SendGathered(conn);
        }

        _gatheredCount = 0;
        _pieceCount = 0;
        _gatherLength = 0;
        _gatherEpoch++;
    }

    /// <summary>Sends what <paramref name="conn"/> gathered, behind what already waits for it, with one send: joined
    /// in the cork when no callback holds it, otherwise in the part of the cork after the callback's bytes (piece by
    /// piece only when they do not fit there).</summary>
    private void SendGathered(LoopConnection<TBackend> conn)
    {
        Chain chain = _chains[conn.Slot];
        conn.Flags &= ~ConnFlags.Gathered;
        int start = _corked is null ? 0 : _corkLength;
        if (chain.Bytes > _corkSize - start)
        {
            for (int p = chain.First; p >= 0 && conn.State != LoopConnState.Closed; p = _pieces[p].Next)
                Stage(conn, new ReadOnlySpan<byte>(_gather + _pieces[p].Offset, _pieces[p].Length));
            return;
        }

        int length = 0;
        for (int p = chain.First; p >= 0; p = _pieces[p].Next)
        {
            Piece piece = _pieces[p];
            new ReadOnlySpan<byte>(_gather + piece.Offset, piece.Length).CopyTo(new Span<byte>(_cork + start + length, piece.Length));
            length += piece.Length;
        }

        if (start == 0)
            SendCork(conn, length);     // a completion backend may take the cork's buffer itself
        else
            Stage(conn, new ReadOnlySpan<byte>(_cork + start, length));
    }

    /// <summary>Forgets what an ended connection gathered.</summary>
    private void DropGathered(LoopConnection<TBackend> conn) => conn.Flags &= ~ConnFlags.Gathered;

    /// <summary>The end of a turn: sends what was gathered, and delivers the closes that caused (whose handlers may
    /// gather more).</summary>
    void ILoopHost.EndTurn()
    {
        while (_gatheredCount > 0)
        {
            FlushGathered();
            DeliverCloses();
        }
    }

    private void FreeGatherBuffer()
    {
        NativeMemory.Free(_gather);
        _gather = null;
        _gatherSize = 0;
    }

    /// <summary>Gathered bytes of one connection: its first and last piece, and their total.</summary>
    private struct Chain
    {
        public int First;
        public int Last;
        public int Bytes;
    }

    /// <summary>Bytes in the gather buffer, and the connection's next piece (-1 for none).</summary>
    private struct Piece
    {
        public int Offset;
        public int Length;
        public int Next;
    }
}
