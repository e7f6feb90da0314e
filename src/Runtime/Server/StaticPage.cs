using System.Text;

namespace WsGen.Server;

/// <summary>A fixed HTTP response for plain GET requests at a path (for example the page of a chat), written once at
/// startup so that serving it is a single write.</summary>
internal sealed class StaticPage
{
    public StaticPage(string contentType, ReadOnlySpan<byte> body)
    {
        if (contentType.AsSpan().ContainsAny('\r', '\n'))
            throw new ArgumentException("A content type is one header value.", nameof(contentType));
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\n" +
            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n");
        Response = [.. head, .. body];
    }

    /// <summary>Status line, headers and body.</summary>
    public byte[] Response { get; }
}
