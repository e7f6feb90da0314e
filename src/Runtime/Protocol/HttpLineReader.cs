namespace WsGen.Protocol;

/// <summary>What <see cref="HttpLineReader.TryReadLine"/> found.</summary>
internal enum HttpLineStatus
{
    /// <summary>A complete line ending in CRLF.</summary>
    Line,

    /// <summary>No line feed yet in the window.</summary>
    NeedMore,

    /// <summary>A line ends in a bare LF, or holds a CR not followed by LF: refused (strict CRLF framing).</summary>
    Malformed,
}

/// <summary>
/// Cuts an HTTP head into CRLF-terminated lines. Only the first <c>maxHeadBytes</c> bytes of the buffer are looked at:
/// a head that has not ended inside them is too large, whatever follows.
/// </summary>
internal ref struct HttpLineReader
{
    private readonly ReadOnlySpan<byte> _window;
    private int _position;

    /// <summary>Reads lines from <paramref name="buffer"/>, looking no further than <paramref name="maxHeadBytes"/> bytes.</summary>
    public HttpLineReader(ReadOnlySpan<byte> buffer, int maxHeadBytes)
    {
        IsWindowFull = buffer.Length >= maxHeadBytes;
        _window = IsWindowFull ? buffer[..maxHeadBytes] : buffer;
        _position = 0;
    }

    /// <summary>The offset just after the last line read.</summary>
    public readonly int Position => _position;

    /// <summary>True when the buffer holds at least <c>maxHeadBytes</c> bytes: if the head has not ended by then, it exceeds the limit.</summary>
    public bool IsWindowFull { get; }

    /// <summary>The bytes after the last line read, up to the end of the window.</summary>
    public readonly ReadOnlySpan<byte> Remaining => _window[_position..];

    /// <summary>Reads the next line, without its CRLF.</summary>
    public HttpLineStatus TryReadLine(out ReadOnlySpan<byte> line)
    {
        var rest = _window[_position..];
        int lf = rest.IndexOf((byte)'\n');
        if (lf < 0)
        {
            line = default;
            return HttpLineStatus.NeedMore;
        }

        if (lf == 0 || rest[lf - 1] != (byte)'\r')
        {
            line = default;
            return HttpLineStatus.Malformed;
        }

        line = rest[..(lf - 1)];
        if (line.Contains((byte)'\r'))
        {
            line = default;
            return HttpLineStatus.Malformed;
        }

        _position += lf + 1;
        return HttpLineStatus.Line;
    }
}
