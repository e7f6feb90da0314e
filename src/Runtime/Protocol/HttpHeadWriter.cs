using System.Text;

namespace WsGen.Protocol;

/// <summary>
/// Appends an HTTP head to a span, or only measures it: the same code path gives the length (see
/// <see cref="Measure"/>) and writes the bytes, so the two always agree.
/// </summary>
internal ref struct HttpHeadWriter
{
    private readonly Span<byte> _destination;
    private readonly bool _measureOnly;
    private int _length;

    /// <summary>A writer into <paramref name="destination"/>; it throws <see cref="ArgumentException"/> when the
    /// destination is too short.</summary>
    public HttpHeadWriter(Span<byte> destination)
    {
        _destination = destination;
        _measureOnly = false;
        _length = 0;
    }

    private HttpHeadWriter(bool measureOnly)
    {
        _destination = default;
        _measureOnly = measureOnly;
        _length = 0;
    }

    /// <summary>A writer that writes nothing and only counts the bytes.</summary>
    public static HttpHeadWriter Measure() => new(measureOnly: true);

    /// <summary>The number of bytes written (or counted) so far.</summary>
    public readonly int Length => _length;

    public void Write(scoped ReadOnlySpan<byte> bytes)
    {
        if (!_measureOnly)
        {
            bytes.CopyTo(Reserve(bytes.Length));
        }

        _length += bytes.Length;
    }

    /// <summary>Writes <paramref name="text"/> one byte per char; the caller has checked every char is below 0x100.</summary>
    public void WriteLatin1(string text)
    {
        if (!_measureOnly)
        {
            Encoding.Latin1.GetBytes(text, Reserve(text.Length));
        }

        _length += text.Length;
    }

    /// <summary>Writes <paramref name="text"/> as printable ASCII, each other char replaced by '?'.</summary>
    public void WritePrintableAscii(string text)
    {
        if (!_measureOnly)
        {
            var span = Reserve(text.Length);
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                span[i] = c is >= ' ' and <= '~' ? (byte)c : (byte)'?';
            }
        }

        _length += text.Length;
    }

    public void WriteInt32(int value)
    {
        Span<byte> digits = stackalloc byte[11];
        value.TryFormat(digits, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        Write(digits[..written]);
    }

    /// <summary>Writes <c>name: value\r\n</c>.</summary>
    public void WriteHeader(scoped ReadOnlySpan<byte> name, scoped ReadOnlySpan<byte> value)
    {
        Write(name);
        Write(": "u8);
        Write(value);
        Write("\r\n"u8);
    }

    private readonly Span<byte> Reserve(int count)
    {
        if (_destination.Length - _length < count)
        {
            throw new ArgumentException("The destination is too short for the HTTP head; measure it first.", "destination");
        }

        return _destination.Slice(_length, count);
    }
}
