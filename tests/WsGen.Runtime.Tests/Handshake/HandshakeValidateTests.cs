using System.Text;
using WsGen.Protocol;
using static WsGen.Tests.HandshakeTests.HandshakeTestHttp;

namespace WsGen.Tests.HandshakeTests;

public class HandshakeValidateTests
{
    [Fact]
    public void AValidRequestIsAcceptedWithTheRfcAcceptValue()
    {
        var decision = Decide(Request());

        Assert.True(decision.IsAccepted, decision.ToString());
        Assert.Equal(101, decision.StatusCode);
        Assert.Equal(RfcAccept, decision.AcceptValue);
        Assert.Null(decision.SubProtocol);
    }

    [Fact]
    public void TheAcceptResponseIsExactlyTheRfcOne()
    {
        var decision = Decide(Request());
        var dest = new byte[256];

        int written = Handshake.WriteAccept(dest, decision);

        const string expected = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        Assert.Equal(expected, Encoding.ASCII.GetString(dest, 0, written));
        Assert.Equal(written, Handshake.GetAcceptLength(null));
    }

    [Fact]
    public void ARandomKeyGivesAnAcceptResponseThatParsesBackWithTheIndependentlyComputedValue()
    {
        string key = Handshake.CreateClientKey();
        var decision = Decide(Request("Sec-WebSocket-Key: " + key, "Sec-WebSocket-Protocol: chat"),
            new HandshakeOptions { SelectSubProtocol = offered => offered[0] });
        var dest = new byte[Handshake.GetAcceptLength("chat")];

        int written = Handshake.WriteAccept(dest, decision);
        var response = ParseResponse(dest.AsSpan(0, written));

        Assert.Equal(dest.Length, written);
        Assert.Equal("HTTP/1.1 101 Switching Protocols", response.StatusLine);
        Assert.Equal("websocket", response.Single("Upgrade"));
        Assert.Equal("Upgrade", response.Single("Connection"));
        Assert.Equal(IndependentAccept(key), response.Single("Sec-WebSocket-Accept"));
        Assert.Equal("chat", response.Single("Sec-WebSocket-Protocol"));
        Assert.Equal(4, response.Headers.Count);
        Assert.Equal("", response.Body);
    }

    public static TheoryData<string, string, int> Table => new()
    {
        { "valid", Request(), 101 },
        { "Connection list with Upgrade", Request("Connection: keep-alive, Upgrade"), 101 },
        { "Connection on two lines", Request("Connection: keep-alive").Replace("\r\n\r\n", "\r\nConnection: upgrade\r\n\r\n"), 101 },
        { "Upgrade in other case, in a list", Request("Upgrade: h2c, WebSocket"), 101 },
        { "HTTP/1.2", RequestWithLine("GET /chat HTTP/1.2"), 101 },
        { "missing Host", Request("Host:"), 400 },
        { "empty Host", Request("Host: "), 400 },
        { "missing Upgrade", Request("Upgrade:"), 400 },
        { "Upgrade to another protocol", Request("Upgrade: h2c"), 400 },
        { "Upgrade with websocket as a substring", Request("Upgrade: websockets"), 400 },
        { "Connection keep-alive only", Request("Connection: keep-alive"), 400 },
        { "missing Connection", Request("Connection:"), 400 },
        { "key of 15 bytes", Request("Sec-WebSocket-Key: " + Convert.ToBase64String(new byte[15])), 400 },
        { "key of 17 bytes", Request("Sec-WebSocket-Key: " + Convert.ToBase64String(new byte[17])), 400 },
        { "key not base64", Request("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ!="), 400 },
        { "key with inner space", Request("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j ZQ=="), 400 },
        { "missing key", Request("Sec-WebSocket-Key:"), 400 },
        { "version 8", Request("Sec-WebSocket-Version: 8"), 426 },
        { "version list", Request("Sec-WebSocket-Version: 13, 8"), 426 },
        { "missing version", Request("Sec-WebSocket-Version:"), 426 },
        { "POST", RequestWithLine("POST /chat HTTP/1.1"), 405 },
        { "lowercase get", RequestWithLine("get /chat HTTP/1.1"), 405 },
        { "HTTP/1.0", RequestWithLine("GET /chat HTTP/1.0"), 400 },
        { "HTTP/2.0", RequestWithLine("GET /chat HTTP/2.0"), 505 },
        { "bare LF", Request().Replace("Host: server.example.com\r\n", "Host: server.example.com\n"), 400 },
        { "obs-fold", Request("Connection: keep-alive,").Replace("keep-alive,\r\n", "keep-alive,\r\n  Upgrade\r\n"), 400 },
        { "space before colon", Request("Upgrade:").Replace("\r\n\r\n", "\r\nUpgrade : websocket\r\n\r\n"), 400 },
        { "duplicate key", Request().Replace("\r\n\r\n", "\r\nSec-WebSocket-Key: " + RfcKey + "\r\n\r\n"), 400 },
        { "too many headers", Request(Enumerable.Range(0, 60).Select(i => $"X-Extra-{i}: v").ToArray()), 431 },
        { "too large head", Request("Cookie: " + new string('c', 8200)), 431 },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void EachRuleAcceptsOrRefusesWithItsStatus(string why, string request, int expectedStatus)
    {
        var decision = Decide(request);

        Assert.True(expectedStatus == decision.StatusCode, $"{why}: got {decision}");
        Assert.Equal(expectedStatus == 101, decision.IsAccepted);
        if (!decision.IsAccepted)
        {
            Assert.False(string.IsNullOrEmpty(decision.Detail));
            Assert.Null(decision.AcceptValue);
        }
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void EveryRefusalResponseClosesTheConnectionAndCarriesItsHeaders(string why, string request, int expectedStatus)
    {
        var decision = Decide(request);
        if (decision.IsAccepted)
        {
            return;
        }

        var dest = new byte[Handshake.GetRejectLength(decision.StatusCode, decision.Detail)];
        int written = Handshake.WriteReject(dest, decision);
        var response = ParseResponse(dest.AsSpan(0, written));

        Assert.Equal(dest.Length, written);
        Assert.Equal(expectedStatus, response.StatusCode);
        Assert.True(response.Single("Connection") == "close", why);
        Assert.Equal(Encoding.ASCII.GetByteCount(response.Body).ToString(System.Globalization.CultureInfo.InvariantCulture), response.Single("Content-Length"));
        Assert.Equal(expectedStatus == 426 ? "13" : null, response.Single("Sec-WebSocket-Version"));
        Assert.Equal(expectedStatus == 405 ? "GET" : null, response.Single("Allow"));
        Assert.Null(response.Single("Sec-WebSocket-Accept"));
    }

    [Fact]
    public void ARefusedOriginGives403AndTheHookSeesTheOrigin()
    {
        var seen = new List<string?>();
        var options = new HandshakeOptions
        {
            CheckOrigin = origin =>
            {
                seen.Add(origin);
                return origin == "https://good.example";
            },
        };

        var refused = Decide(Request("Origin: https://evil.example"), options);
        var accepted = Decide(Request("Origin: https://good.example"), options);
        var missing = Decide(Request(), options);

        Assert.Equal(403, refused.StatusCode);
        Assert.True(accepted.IsAccepted);
        Assert.Equal(403, missing.StatusCode);
        Assert.Equal(["https://evil.example", "https://good.example", null], seen);
    }

    [Fact]
    public void TheSubProtocolHookGetsEveryOfferInOrderAcrossRepeatedLines()
    {
        IReadOnlyList<string>? offeredToHook = null;
        var options = new HandshakeOptions
        {
            SelectSubProtocol = offered =>
            {
                offeredToHook = offered;
                return "v2.chat";
            },
        };
        string request = Request("Sec-WebSocket-Protocol: v1.chat, v2.chat")
            .Replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: v3.chat\r\n\r\n");

        var decision = Decide(request, options);

        Assert.True(decision.IsAccepted);
        Assert.Equal("v2.chat", decision.SubProtocol);
        Assert.Equal(["v1.chat", "v2.chat", "v3.chat"], offeredToHook);
    }

    [Fact]
    public void WhenTheHookChoosesNoneTheResponseHasNoProtocolHeader()
    {
        var options = new HandshakeOptions { SelectSubProtocol = _ => null };
        var decision = Decide(Request("Sec-WebSocket-Protocol: chat, superchat"), options);
        var dest = new byte[256];

        int written = Handshake.WriteAccept(dest, decision);

        Assert.True(decision.IsAccepted);
        Assert.Null(decision.SubProtocol);
        Assert.Null(ParseResponse(dest.AsSpan(0, written)).Single("Sec-WebSocket-Protocol"));
    }

    [Fact]
    public void TheHookIsNotCalledWhenNothingIsOffered()
    {
        bool called = false;
        var options = new HandshakeOptions { SelectSubProtocol = _ => { called = true; return null; } };

        var decision = Decide(Request(), options);

        Assert.True(decision.IsAccepted);
        Assert.False(called);
    }

    [Fact]
    public void WithoutAHookNoSubProtocolIsChosen()
    {
        var decision = Decide(Request("Sec-WebSocket-Protocol: chat"));

        Assert.True(decision.IsAccepted);
        Assert.Null(decision.SubProtocol);
    }

    [Fact]
    public void AHookReturningAnUnofferedValueIsAServerBug()
    {
        var options = new HandshakeOptions { SelectSubProtocol = _ => "CHAT" };

        Assert.Throws<InvalidOperationException>(() => Decide(Request("Sec-WebSocket-Protocol: chat"), options));
    }

    [Fact]
    public void TheVersionIsCheckedBeforeTheOriginHook()
    {
        bool originChecked = false;
        var options = new HandshakeOptions { CheckOrigin = _ => originChecked = true };

        var decision = Decide(Request("Sec-WebSocket-Version: 8"), options);

        Assert.Equal(426, decision.StatusCode);
        Assert.False(originChecked);
    }
}
