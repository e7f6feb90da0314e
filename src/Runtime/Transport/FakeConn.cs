namespace WsGen.Transport;

/// <summary>The connection a <see cref="FakeReactor"/> hands to its handler, over an underlying <see cref="INetConn"/>.</summary>
internal sealed class FakeConn : IReactorConn
{
    internal readonly FakeReactor Loop;
    internal readonly INetConn Inner;
    internal FakeConnState State;
    internal bool ReadPaused;
    internal SendQueue? Waiting;

    internal FakeConn(FakeReactor loop, INetConn inner)
    {
        Loop = loop;
        Inner = inner;
    }

    /// <inheritdoc/>
    public object? Context { get; set; }

    /// <inheritdoc/>
    public long WaitingBytes => Waiting?.Length ?? 0;

    /// <summary>Reads the underlying connection directly (the loop normally reads for the handler).</summary>
    public int Read(Span<byte> buffer) => State == FakeConnState.Open ? Inner.Read(buffer) : 0;

    /// <inheritdoc/>
    public int Write(ReadOnlySpan<byte> data) => Loop.Write(this, data);

    /// <inheritdoc/>
    public void Close() => Loop.Close(this);

    /// <inheritdoc/>
    public void Abort() => Loop.Finish(this);
}

/// <summary>Life cycle of a <see cref="FakeConn"/>.</summary>
internal enum FakeConnState : byte
{
    Open,
    Closing,
    Closed,
}
