namespace WsGen;

/// <summary>Sizes, limits and timeouts of a reactor loop.</summary>
internal sealed record ReactorOptions
{
    /// <summary>The loop's one receive buffer, shared by all its connections (512 KiB).</summary>
    public int ReceiveBufferSize { get; init; } = 512 * 1024;

    /// <summary>The loop's cork buffer, where writes made during a callback gather before one send (512 KiB).</summary>
    public int SendBufferSize { get; init; } = 512 * 1024;

    /// <summary>While more than this many bytes wait for a connection's socket, the loop stops reading that
    /// connection, so that TCP flow control reaches the peer; reading resumes once everything is flushed (256 KiB).</summary>
    public int PauseReadingThreshold { get; init; } = 256 * 1024;

    /// <summary>Policy: a write that would make a connection's waiting bytes exceed this limit aborts the connection
    /// (the handler gets <see cref="IConnectionHandler.OnClose"/>) and returns 0 (128 MiB). A write taken into the cork
    /// during a callback for its own connection returns its length; if the cork's bytes then cross the limit when
    /// the callback returns, the connection is aborted at that point.</summary>
    public long MaxBackpressure { get; init; } = 128L * 1024 * 1024;

    /// <summary>After shutdown was requested, how long the loop waits for the handler to close its connections
    /// before it aborts the rest (5 s).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a gracefully closed connection may take to flush its waiting bytes and, after its sending
    /// side is shut down, to see the peer's end of stream, before it is closed anyway (2 s).</summary>
    public TimeSpan LingerTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Buffers for bytes that wait for a socket; when null (or for backlogs beyond one buffer) buffers are
    /// rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/>.</summary>
    public IBytePool? BackpressurePool { get; init; }

    /// <summary>The listen backlog (1024).</summary>
    public int Backlog { get; init; } = 1024;

    /// <summary>Sets SO_REUSEPORT on listeners, so that several loops can listen on one port (Linux).</summary>
    public bool ReusePort { get; init; }

    /// <summary>SO_SNDBUF for accepted sockets, or 0 for the kernel's default (autotuning).</summary>
    public int SocketSendBufferSize { get; init; }

    /// <summary>SO_RCVBUF for accepted sockets, or 0 for the kernel's default (autotuning).</summary>
    public int SocketReceiveBufferSize { get; init; }

    /// <summary>The options used when none are given.</summary>
    public static ReactorOptions Default { get; } = new();

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveBufferSize, 256, nameof(ReceiveBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(SendBufferSize, 256, nameof(SendBufferSize));
        ArgumentOutOfRangeException.ThrowIfNegative(PauseReadingThreshold, nameof(PauseReadingThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackpressure, PauseReadingThreshold, nameof(MaxBackpressure));
        ArgumentOutOfRangeException.ThrowIfNegative(SocketSendBufferSize, nameof(SocketSendBufferSize));
        ArgumentOutOfRangeException.ThrowIfNegative(SocketReceiveBufferSize, nameof(SocketReceiveBufferSize));
    }
}
