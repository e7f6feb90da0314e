using System.Text;
using WsGen.Protocol;

namespace WsGen.Tests.HandshakeTests;

/// <summary>Builds handshake requests for the tests and reads HTTP responses back, independently of the code under test.</summary>
internal static class HandshakeTestHttp
{
    /// <summary>The sample key of RFC 6455 section 1.3 and the accept value the RFC gives for it.</summary>
    public const string RfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
    public const string RfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    public const string RequestLine = "GET /chat?room=1 HTTP/1.1";

    public static List<string> ValidHeaders() =>
    [
        "Host: server.example.com",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: " + RfcKey,
        "Sec-WebSocket-Version: 13",
    ];

    /// <summary>A request with the valid headers, where each header named in <paramref name="replace"/> ("Name: value")
    /// replaces the one with that name, or is added, and "Name:" alone removes it.</summary>
    public static string Request(params string[] replace) => RequestWithLine(RequestLine, replace);

    public static string RequestWithLine(string requestLine, params string[] replace)
    {
        var headers = ValidHeaders();
        foreach (string change in replace)
        {
            string name = change[..(change.IndexOf(':') + 1)];
            int index = headers.FindIndex(h => h.StartsWith(name, StringComparison.OrdinalIgnoreCase));
            bool remove = change.Length == name.Length;
            if (index >= 0 && remove)
            {
                headers.RemoveAt(index);
            }
            else if (index >= 0)
            {
                headers[index] = change;
            }
            else if (!remove)
            {
                headers.Add(change);
            }
        }

        return Join(requestLine, headers);
    }

    /// <summary>The request line and header lines, each ending in CRLF, then the blank line.</summary>
    public static string Join(string requestLine, IEnumerable<string> headers)
    {
        var text = new StringBuilder(requestLine).Append("\r\n");
        foreach (string header in headers)
        {
            text.Append(header).Append("\r\n");
        }

        return text.Append("\r\n").ToString();
    }

    public static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>Parses <paramref name="request"/> and validates it, as the server does.</summary>
    public static HandshakeDecision Decide(string request, HandshakeOptions? options = null)
    {
        var status = HttpRequestParser.TryParse(Bytes(request), HandshakeLimits.Default, out var head, out _);
        Assert.NotEqual(HttpParseStatus.NeedMore, status);
        return Handshake.Validate(head, options ?? HandshakeOptions.Default);
    }

    /// <summary>The accept value computed by the test on its own: base64(SHA-1(key + GUID)).</summary>
    public static string IndependentAccept(string key) =>
        Convert.ToBase64String(System.Security.Cryptography.SHA1.HashData(
            Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));

    /// <summary>Splits an HTTP response into status line, headers and body; asserts CRLF framing.</summary>
    public static ParsedResponse ParseResponse(ReadOnlySpan<byte> bytes)
    {
        string text = Encoding.Latin1.GetString(bytes);
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end > 0, "no blank line ends the head");
        string[] lines = text[..end].Split("\r\n");
        Assert.DoesNotContain(lines, l => l.Contains('\n') || l.Contains('\r'));
        var headers = new List<KeyValuePair<string, string>>();
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            Assert.True(colon > 0, $"bad header line '{line}'");
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }

        return new ParsedResponse(lines[0], headers, text[(end + 4)..]);
    }
}

internal sealed record ParsedResponse(string StatusLine, List<KeyValuePair<string, string>> Headers, string Body)
{
    public int StatusCode => int.Parse(StatusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The values of every header named <paramref name="name"/> (case-insensitive).</summary>
    public string[] Values(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToArray();

    public string? Single(string name) => Values(name) switch
    {
        [] => null,
        [var one] => one,
        var many => throw new Xunit.Sdk.XunitException($"{name} appears {many.Length} times"),
    };
}
