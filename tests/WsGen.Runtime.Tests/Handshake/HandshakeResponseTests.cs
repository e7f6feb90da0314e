using System.Text;
using WsGen.Protocol;
using static WsGen.Tests.HandshakeTests.HandshakeTestHttp;

namespace WsGen.Tests.HandshakeTests;

public class HandshakeResponseTests
{
    [Fact]
    public void ComputeAcceptMatchesTheRfcExample()
    {
        var accept = new byte[28];

        Handshake.ComputeAccept(Encoding.ASCII.GetBytes(RfcKey), accept);

        Assert.Equal(RfcAccept, Encoding.ASCII.GetString(accept));
    }

    [Fact]
    public void ComputeAcceptHandlesAnyKeyLength()
    {
        string longKey = new('k', 500);
        var accept = new byte[28];

        Handshake.ComputeAccept(Encoding.ASCII.GetBytes(longKey), accept);

        Assert.Equal(IndependentAccept(longKey), Encoding.ASCII.GetString(accept));
        Assert.Throws<ArgumentException>(() => Handshake.ComputeAccept(Encoding.ASCII.GetBytes(RfcKey), new byte[27]));
    }

    [Fact]
    public void WriteAcceptFromTheKeyWritesTheSubProtocol()
    {
        var dest = new byte[Handshake.GetAcceptLength("chat")];

        int written = Handshake.WriteAccept(dest, Encoding.ASCII.GetBytes(RfcKey), "chat");

        const string expected = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
        Assert.Equal(expected, Encoding.ASCII.GetString(dest, 0, written));
        Assert.Equal(dest.Length, written);
    }

    [Fact]
    public void WriteAcceptRefusesAShortDestinationAndANonTokenSubProtocol()
    {
        byte[] key = Encoding.ASCII.GetBytes(RfcKey);

        Assert.Throws<ArgumentException>(() => Handshake.WriteAccept(new byte[Handshake.GetAcceptLength(null) - 1], key, null));
        Assert.Throws<ArgumentException>(() => Handshake.WriteAccept(new byte[512], key, "bad value\r\nX: y"));
    }

    [Theory]
    [InlineData(400, "Bad Request")]
    [InlineData(403, "Forbidden")]
    [InlineData(404, "Not Found")]
    [InlineData(405, "Method Not Allowed")]
    [InlineData(414, "URI Too Long")]
    [InlineData(426, "Upgrade Required")]
    [InlineData(431, "Request Header Fields Too Large")]
    [InlineData(503, "Service Unavailable")]
    [InlineData(505, "HTTP Version Not Supported")]
    public void WriteRejectWritesAClosingResponseWithABody(int status, string reason)
    {
        var dest = new byte[Handshake.GetRejectLength(status, "some detail")];

        int written = Handshake.WriteReject(dest, status, "some detail");
        var response = ParseResponse(dest.AsSpan(0, written));

        Assert.Equal($"HTTP/1.1 {status} {reason}", response.StatusLine);
        Assert.Equal("close", response.Single("Connection"));
        Assert.Equal($"{status} {reason}: some detail\n", response.Body);
        Assert.Equal(response.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Single("Content-Length"));
        Assert.Equal(status == 426 ? "13" : null, response.Single("Sec-WebSocket-Version"));
        Assert.Equal(status == 426 ? "websocket" : null, response.Single("Upgrade"));
        Assert.Equal(status == 405 ? "GET" : null, response.Single("Allow"));
    }

    [Fact]
    public void RejectDetailIsSanitizedAndMayBeOmitted()
    {
        var dest = new byte[512];

        var withControl = ParseResponse(dest.AsSpan(0, Handshake.WriteReject(dest, 404, "no\r\nX-Injected: 1 é")));
        Assert.Equal("404 Not Found: no??X-Injected: 1 ?\n", withControl.Body);
        Assert.Null(withControl.Single("X-Injected"));

        var without = ParseResponse(dest.AsSpan(0, Handshake.WriteReject(dest, 503)));
        Assert.Equal("503 Service Unavailable\n", without.Body);
        Assert.Equal("24", without.Single("Content-Length"));
    }

    [Fact]
    public void WriteRejectRefusesUnknownStatusesAndShortDestinations()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Handshake.WriteReject(new byte[512], 101));
        Assert.Throws<ArgumentOutOfRangeException>(() => Handshake.WriteReject(new byte[512], 418));
        Assert.Throws<ArgumentException>(() => Handshake.WriteReject(new byte[Handshake.GetRejectLength(400, "x") - 1], 400, "x"));
    }
}
