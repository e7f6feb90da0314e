namespace WsGen.Protocol;

/// <summary>Bounds on the opening handshake request, enforced while it is being read.</summary>
internal sealed class HandshakeLimits
{
    private readonly int _maxHeaderBytes = 8 * 1024;
    private readonly int _maxHeaderCount = 64;
    private readonly int _maxRequestTargetLength = 2 * 1024;

    /// <summary>The default limits: 8 KiB of head, 64 header lines, a 2 KiB request-target.</summary>
    public static HandshakeLimits Default { get; } = new();

    /// <summary>The largest request head, request line and final blank line included. A longer head is answered
    /// with 431, as soon as that many bytes have arrived without the blank line.</summary>
    public int MaxHeaderBytes
    {
        get => _maxHeaderBytes;
        init => _maxHeaderBytes = Positive(value);
    }

    /// <summary>The largest number of header lines (any header, known or not). More is answered with 431.</summary>
    public int MaxHeaderCount
    {
        get => _maxHeaderCount;
        init => _maxHeaderCount = Positive(value);
    }

    /// <summary>The longest request-target (path and query). Longer is answered with 414.</summary>
    public int MaxRequestTargetLength
    {
        get => _maxRequestTargetLength;
        init => _maxRequestTargetLength = Positive(value);
    }

    private static int Positive(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
        return value;
    }
}
