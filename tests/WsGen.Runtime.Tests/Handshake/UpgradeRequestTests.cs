using System.Text;
using WsGen.Protocol;

namespace WsGen.Tests.HandshakeTests;

/// <summary>The upgrade hook's request view over a parsed head, and the decisions' rules, without a server.</summary>
public sealed class UpgradeRequestTests
{
    private const string Head =
        "GET /room/a%20b?token=s%2Fcret&name=Ann+Lee&flag&empty=&token=second HTTP/1.1\r\n" +
        "Host: example.com\r\n" +
        "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Protocol: chat.v1, chat.v2\r\n" +
        "X-Custom:   spaced value  \r\n" +
        "Cookie: theme=dark; session=\"abc\"\r\n" +
        "cookie: late=1\r\n" +
        "\r\n";

    private static T With<T>(Func<WebSocketUpgradeRequest, T> read)
    {
        var bytes = Encoding.ASCII.GetBytes(Head);
        Assert.Equal(HttpParseStatus.Complete, HttpRequestParser.TryParse(bytes, HandshakeLimits.Default, out var head, out _));
        return read(new WebSocketUpgradeRequest(in head));
    }

    [Fact]
    public void PathAndQuery_AreTheRawBytes_AndQueryValuesDecodeOnRequest()
    {
        Assert.Equal("/room/a%20b", With(r => Encoding.ASCII.GetString(r.Path)));
        Assert.StartsWith("token=s%2Fcret&", With(r => Encoding.ASCII.GetString(r.Query)));
        Assert.Equal("s%2Fcret", With(r => r.TryGetQueryValue("token"u8, out var v) ? Encoding.ASCII.GetString(v) : null));
        Assert.Equal("s/cret", With(r => r.GetQueryValue("token")));
        Assert.Equal("Ann Lee", With(r => r.GetQueryValue("name")));
        Assert.Equal("", With(r => r.GetQueryValue("flag")));
        Assert.Equal("", With(r => r.GetQueryValue("empty")));
        Assert.Null(With(r => r.GetQueryValue("missing")));
        Assert.Null(With(r => r.GetQueryValue("Token")));
    }

    [Fact]
    public void Headers_ByNameInAnyCase_WithoutSurroundingSpaces()
    {
        Assert.Equal("spaced value", With(r => r.GetHeader("x-custom")));
        Assert.Equal("example.com", With(r => r.TryGetHeader("HOST"u8, out var v) ? Encoding.ASCII.GetString(v) : null));
        Assert.Null(With(r => r.GetHeader("X-Missing")));
        Assert.Contains("X-Custom:", With(r => Encoding.ASCII.GetString(r.Head)));
    }

    [Fact]
    public void Cookies_AcrossCookieLines_QuotesRemoved_NamesCaseSensitive()
    {
        Assert.Equal("dark", With(r => r.GetCookie("theme")));
        Assert.Equal("abc", With(r => r.GetCookie("session")));
        Assert.Equal("1", With(r => r.GetCookie("late")));
        Assert.Null(With(r => r.GetCookie("Session")));
    }

    [Fact]
    public void SubProtocols_AreTheOffers()
    {
        Assert.Equal(["chat.v1", "chat.v2"], With(r => r.SubProtocols));
        Assert.True(With(r => r.OffersSubProtocol("chat.v2")));
        Assert.False(With(r => r.OffersSubProtocol("CHAT.v2")));
    }

    [Fact]
    public void Decisions_CheckTheirStatusBodyAndHeaders()
    {
        Assert.True(default(WebSocketUpgradeDecision).IsAccepted);
        Assert.Equal(101, WebSocketUpgradeDecision.Accept().StatusCode);
        Assert.Throws<ArgumentOutOfRangeException>(() => WebSocketUpgradeDecision.Refuse(302));
        Assert.Throws<ArgumentOutOfRangeException>(() => WebSocketUpgradeDecision.Refuse(600));
        Assert.Throws<ArgumentOutOfRangeException>(() => WebSocketUpgradeDecision.Refuse(400, new string('x', WebSocketUpgradeDecision.MaxBodyLength + 1)));
        Assert.Throws<ArgumentException>(() => WebSocketUpgradeDecision.Accept(subProtocol: "not a token"));
        Assert.Throws<ArgumentException>(() => WebSocketUpgradeDecision.Accept().WithHeader("Sec-WebSocket-Accept", "x"));
        Assert.Throws<ArgumentException>(() => WebSocketUpgradeDecision.Refuse(401).WithHeader("Content-Length", "1"));
        Assert.Throws<ArgumentException>(() => WebSocketUpgradeDecision.Refuse(401).WithHeader("X-Bad", "line\r\nbreak"));
        Assert.Throws<ArgumentException>(() => WebSocketUpgradeDecision.Refuse(401).WithHeader("bad name", "v"));

        var refusal = WebSocketUpgradeDecision.Refuse(429, "slow down").WithHeader("Retry-After", "1").WithHeader("X-A", "b");
        Assert.False(refusal.IsAccepted);
        Assert.Equal([new("Retry-After", "1"), new("X-A", "b")], refusal.Headers);

        var bytes = new byte[WsGen.Protocol.Handshake.GetHookRefusalLength(429, refusal.Headers, refusal.Body)];
        int n = WsGen.Protocol.Handshake.WriteHookRefusal(bytes, 429, refusal.Headers, refusal.Body);
        Assert.Equal(bytes.Length, n);
        Assert.Equal(
            "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: 1\r\nX-A: b\r\n" +
            "Content-Type: text/plain; charset=us-ascii\r\nContent-Length: 9\r\n\r\nslow down",
            Encoding.ASCII.GetString(bytes));
    }
}
