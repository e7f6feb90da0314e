using System.Net;
using System.Text;
using WsGen.Protocol;

namespace WsGen;

/// <summary>
/// The upgrade request an endpoint's <c>OnUpgrade</c> hook decides on: zero-copy views over the request head as it
/// lies in the loop's receive buffer, valid only during the hook's call (like a borrowed payload). An asynchronous hook
/// copies what it needs (a token, a cookie) before it returns its <see cref="ValueTask{TResult}"/>.
/// </summary>
/// <remarks>The span members allocate nothing. The string members decode on demand: header values and cookies as
/// Latin-1, query values percent-decoded as UTF-8.</remarks>
public readonly ref struct WebSocketUpgradeRequest
{
    private readonly HttpRequestHead _head;
    private readonly WebSocketConnection? _conn;

    internal WebSocketUpgradeRequest(in HttpRequestHead head, WebSocketConnection? conn = null)
    {
        _head = head;
        _conn = conn;
    }

    /// <summary>The client's address and port (see <see cref="WebSocketConnection.RemoteEndPoint"/>): a new object
    /// per read, null when the transport does not know it.</summary>
    public IPEndPoint? RemoteEndPoint => _conn?.RemoteEndPoint;

    /// <summary>The endpoint of the listener that accepted the connection (see
    /// <see cref="WebSocketConnection.LocalEndPoint"/>): which of the server's ports, ws:// or wss://, it came to.</summary>
    public IPEndPoint? LocalEndPoint => _conn?.LocalEndPoint;

    /// <summary>The request-target up to, not including, the first '?' (as sent: not percent-decoded).</summary>
    public ReadOnlySpan<byte> Path => _head.PathBytes;

    /// <summary>The request-target after the first '?' (as sent); empty without one.</summary>
    public ReadOnlySpan<byte> Query => _head.QueryBytes;

    /// <summary>The whole request head, request line to the blank line: every header, as sent.</summary>
    public ReadOnlySpan<byte> Head => _head.Bytes;

    /// <summary>The value of the first query parameter named <paramref name="name"/> (compared as sent, case-sensitive),
    /// not decoded; true when the query has that parameter.</summary>
    public bool TryGetQueryValue(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var rest = _head.QueryBytes;
        while (!rest.IsEmpty)
        {
            int amp = rest.IndexOf((byte)'&');
            var pair = amp < 0 ? rest : rest[..amp];
            rest = amp < 0 ? default : rest[(amp + 1)..];
            int eq = pair.IndexOf((byte)'=');
            var key = eq < 0 ? pair : pair[..eq];
            if (key.SequenceEqual(name))
            {
                value = eq < 0 ? default : pair[(eq + 1)..];
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>The first query parameter named <paramref name="name"/>, percent-decoded ('+' reads as a space), or null.</summary>
    public string? GetQueryValue(string name)
    {
        Span<byte> key = stackalloc byte[Encoding.UTF8.GetMaxByteCount(name.Length)];
        int n = Encoding.UTF8.GetBytes(name, key);
        if (!TryGetQueryValue(key[..n], out var raw))
            return null;
        string text = Encoding.UTF8.GetString(raw).Replace('+', ' ');
        return Uri.UnescapeDataString(text);
    }

    /// <summary>The value of the first header line named <paramref name="name"/> (ASCII, any case), without its
    /// surrounding whitespace; true when the request has that header.</summary>
    public bool TryGetHeader(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var lines = HeaderLines();
        while (NextHeader(ref lines, out var lineName, out value))
        {
            if (Ascii.EqualsIgnoreCase(lineName, name))
                return true;
        }

        return false;
    }

    /// <summary>The value of the first header line named <paramref name="name"/> (any case), or null.</summary>
    public string? GetHeader(string name) =>
        TryGetHeader(Encoding.ASCII.GetBytes(name), out var value) ? Encoding.Latin1.GetString(value) : null;

    /// <summary>The value of the cookie named <paramref name="name"/> (case-sensitive) in the request's Cookie
    /// header lines, as sent; true when one is there.</summary>
    public bool TryGetCookie(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var lines = HeaderLines();
        while (NextHeader(ref lines, out var lineName, out var cookies))
        {
            if (Ascii.EqualsIgnoreCase(lineName, "Cookie"u8) && FindCookie(cookies, name, out value))
                return true;
        }

        value = default;
        return false;
    }

    /// <summary>The value of the cookie named <paramref name="name"/>, or null.</summary>
    public string? GetCookie(string name) =>
        TryGetCookie(Encoding.ASCII.GetBytes(name), out var value) ? Encoding.Latin1.GetString(value) : null;

    /// <summary>The subprotocols the client offers, in order (allocated on use); empty when none.</summary>
    public IReadOnlyList<string> SubProtocols => _head.SubProtocols;

    /// <summary>True when the client offered <paramref name="subProtocol"/> (case-sensitive).</summary>
    public bool OffersSubProtocol(string subProtocol) => _head.OffersSubProtocol(subProtocol);

    /// <summary>The offered extensions (every Sec-WebSocket-Extensions line, comma-joined), or null.</summary>
    public string? Extensions => _head.SecWebSocketExtensions;

    /// <summary>The Origin header, or null.</summary>
    public string? Origin => _head.Origin;

    /// <summary>The head's lines after the request line.</summary>
    private HttpLineReader HeaderLines()
    {
        var reader = new HttpLineReader(_head.Bytes, _head.Bytes.Length);
        reader.TryReadLine(out _);
        return reader;
    }

    /// <summary>The next header line's name and value; false at the blank line that ends the head.</summary>
    private static bool NextHeader(scoped ref HttpLineReader lines, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        while (lines.TryReadLine(out var line) == HttpLineStatus.Line && !line.IsEmpty)
        {
            if (HttpSyntax.TrySplitHeaderLine(line, out name, out value))
                return true;
        }

        name = value = default;
        return false;
    }

    /// <summary>Cookies are "name=value" pairs separated by ';' and optional spaces (RFC 6265 section 4.2.1).</summary>
    private static bool FindCookie(ReadOnlySpan<byte> cookies, ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var rest = cookies;
        while (!rest.IsEmpty)
        {
            int semicolon = rest.IndexOf((byte)';');
            var pair = (semicolon < 0 ? rest : rest[..semicolon]).Trim(" \t"u8);
            rest = semicolon < 0 ? default : rest[(semicolon + 1)..];
            int eq = pair.IndexOf((byte)'=');
            if (eq > 0 && pair[..eq].SequenceEqual(name))
            {
                value = pair[(eq + 1)..];
                if (value.Length >= 2 && value[0] == (byte)'"' && value[^1] == (byte)'"')
                    value = value[1..^1];
                return true;
            }
        }

        value = default;
        return false;
    }
}
