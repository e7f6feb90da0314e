using System.Net.Security;

namespace WsGen.Transport;

/// <summary>
/// What the connections of one TLS listener share: the server's authentication options, built once, and the count
/// of handshakes under way over all the loops, capped so that a flood of slow ClientHellos cannot take the memory of
/// many TLS engines at once.
/// </summary>
internal sealed class TlsListener(SslServerAuthenticationOptions options, int maxHandshakes)
{
    private int _handshakes;

    /// <summary>The options every handshake of this listener runs with.</summary>
    internal SslServerAuthenticationOptions Options { get; } = options;

    /// <summary>At most this many handshakes run at once; a connection beyond it is closed before its handshake.</summary>
    internal int MaxHandshakes { get; } = maxHandshakes;

    /// <summary>Handshakes under way now (any thread).</summary>
    internal int Handshakes => Volatile.Read(ref _handshakes);

    /// <summary>Makes the transform of a connection this listener accepted (what the loop calls for each).</summary>
    internal IByteTransform Create(IReactorConn conn) => new TlsTransform(this, conn);

    /// <summary>Counts a handshake that starts; false (and nothing counted) when the cap is reached.</summary>
    internal bool TryBeginHandshake()
    {
        if (Interlocked.Increment(ref _handshakes) <= MaxHandshakes)
            return true;
        Interlocked.Decrement(ref _handshakes);
        return false;
    }

    /// <summary>A handshake counted by <see cref="TryBeginHandshake"/> ended, however it ended.</summary>
    internal void EndHandshake() => Interlocked.Decrement(ref _handshakes);
}
