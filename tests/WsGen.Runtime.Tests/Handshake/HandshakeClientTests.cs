using System.Text;
using WsGen.Protocol;
using static WsGen.Tests.HandshakeTests.HandshakeTestHttp;

namespace WsGen.Tests.HandshakeTests;

public class HandshakeClientTests
{
    private const string RfcResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    [Fact]
    public void TheClientRequestHasTheRfcShape()
    {
        byte[] key = Encoding.ASCII.GetBytes(RfcKey);
        string[] protocols = ["chat", "superchat"];
        var dest = new byte[Handshake.GetClientRequestLength("server.example.com", "/chat?x=1", key, protocols, "http://example.com")];

        int written = Handshake.WriteClientRequest(dest, "server.example.com", "/chat?x=1", key, protocols, "http://example.com");

        const string expected = "GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Protocol: chat, superchat\r\nOrigin: http://example.com\r\n\r\n";
        Assert.Equal(dest.Length, written);
        Assert.Equal(expected, Encoding.ASCII.GetString(dest, 0, written));
    }

    [Fact]
    public void TheClientRequestIsAcceptedByTheServerSide()
    {
        string key = Handshake.CreateClientKey();
        byte[] keyBytes = Encoding.ASCII.GetBytes(key);
        var dest = new byte[512];

        int written = Handshake.WriteClientRequest(dest, "localhost:9000", "/ws", keyBytes, ["a", "b"], null);
        var status = HttpRequestParser.TryParse(dest.AsSpan(0, written), HandshakeLimits.Default, out var head, out int consumed);
        var decision = Handshake.Validate(head, new HandshakeOptions { SelectSubProtocol = offered => offered[1] });

        Assert.Equal(HttpParseStatus.Complete, status);
        Assert.Equal(written, consumed);
        Assert.True(decision.IsAccepted, decision.ToString());
        Assert.Equal("b", decision.SubProtocol);
        Assert.Equal(IndependentAccept(key), decision.AcceptValue);
        Assert.Null(head.Origin);
    }

    [Fact]
    public void CreateClientKeyGivesFreshBase64Of16Bytes()
    {
        string first = Handshake.CreateClientKey();
        string second = Handshake.CreateClientKey();

        Assert.Equal(16, Convert.FromBase64String(first).Length);
        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData("bad\r\nhost", "/", RfcKey, "chat")]
    [InlineData("", "/", RfcKey, "chat")]
    [InlineData("host", "no-slash", RfcKey, "chat")]
    [InlineData("host", "/a b", RfcKey, "chat")]
    [InlineData("host", "/", "c2hvcnQ=", "chat")]
    [InlineData("host", "/", RfcKey, "not a token")]
    [InlineData("host", "/", RfcKey, "dup,dup")]
    public void InvalidClientRequestArgumentsThrow(string host, string path, string key, string protocols)
    {
        Assert.Throws<ArgumentException>(() =>
            Handshake.WriteClientRequest(new byte[1024], host, path, Encoding.ASCII.GetBytes(key), protocols.Split(','), null));
    }

    [Fact]
    public void TheRfcResponseIsAcceptedAtTheEndAndNeedsMoreAtEveryEarlierSplit()
    {
        byte[] head = Bytes(RfcResponse);
        byte[] stream = [.. head, 0x81, 0x02, 0x68, 0x69];

        for (int length = 0; length <= stream.Length; length++)
        {
            var result = Handshake.ParseServerResponse(stream.AsSpan(0, length), RfcKey, null, out int consumed);

            if (length < head.Length)
            {
                Assert.Equal(ClientHandshakeStatus.NeedMore, result.Status);
                Assert.Equal(0, consumed);
            }
            else
            {
                Assert.True(result.Status == ClientHandshakeStatus.Accepted, result.ToString());
                Assert.Null(result.SubProtocol);
                Assert.Equal(head.Length, consumed);
            }
        }
    }

    [Fact]
    public void AServerResponseWrittenByTheServerSideIsAcceptedWithItsSubProtocolAtEverySplit()
    {
        string key = Handshake.CreateClientKey();
        string[] offered = ["v1", "v2"];
        var head = new byte[Handshake.GetAcceptLength("v2")];
        Handshake.WriteAccept(head, Encoding.ASCII.GetBytes(key), "v2");

        for (int length = 0; length <= head.Length; length++)
        {
            var result = Handshake.ParseServerResponse(head.AsSpan(0, length), key, offered, out int consumed);

            Assert.Equal(length < head.Length ? ClientHandshakeStatus.NeedMore : ClientHandshakeStatus.Accepted, result.Status);
            if (length == head.Length)
            {
                Assert.Same(offered[1], result.SubProtocol);
                Assert.Equal(head.Length, consumed);
            }
        }
    }

    [Fact]
    public void HeaderNamesAndTokensAreMatchedCaseInsensitively()
    {
        string response = "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, upgrade\r\n"
            + "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

        var result = Handshake.ParseServerResponse(Bytes(response), RfcKey, null, out _);

        Assert.Equal(ClientHandshakeStatus.Accepted, result.Status);
    }

    public static TheoryData<string, string, int> Failures => new()
    {
        { "wrong accept", RfcResponse.Replace("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", IndependentAccept("AAAAAAAAAAAAAAAAAAAAAA==")), 101 },
        { "missing accept", RfcResponse.Replace("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", ""), 101 },
        { "duplicate accept", RfcResponse.Replace("\r\n\r\n", "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"), 101 },
        { "missing upgrade", RfcResponse.Replace("Upgrade: websocket\r\n", ""), 101 },
        { "upgrade to another protocol", RfcResponse.Replace("Upgrade: websocket", "Upgrade: h2c"), 101 },
        { "missing connection", RfcResponse.Replace("Connection: Upgrade\r\n", ""), 101 },
        { "status 200", RfcResponse.Replace("101 Switching Protocols", "200 OK"), 200 },
        { "status 426", "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n", 426 },
        { "unoffered subprotocol", RfcResponse.Replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: superchat\r\n\r\n"), 101 },
        { "subprotocol in another case", RfcResponse.Replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: CHAT\r\n\r\n"), 101 },
        { "two subprotocols", RfcResponse.Replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: chat, json\r\n\r\n"), 101 },
        { "two subprotocol lines", RfcResponse.Replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: json\r\n\r\n"), 101 },
        { "extensions", RfcResponse.Replace("\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"), 101 },
        { "HTTP/1.0 status line", RfcResponse.Replace("HTTP/1.1", "HTTP/1.0"), 0 },
        { "malformed status line", RfcResponse.Replace("HTTP/1.1 101", "HTTP/1.1 1O1"), 0 },
        { "bare LF", RfcResponse.Replace("Upgrade: websocket\r\n", "Upgrade: websocket\n"), 101 },
        { "obs-fold", RfcResponse.Replace("Connection: Upgrade\r\n", "Connection:\r\n Upgrade\r\n"), 101 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void BadResponsesFail(string why, string response, int expectedStatusCode)
    {
        string[] offered = ["chat", "json"];

        var result = Handshake.ParseServerResponse(Bytes(response), RfcKey, offered, out _);

        Assert.True(result.Status == ClientHandshakeStatus.Failed, $"{why}: {result}");
        Assert.False(string.IsNullOrEmpty(result.FailureReason));
        Assert.Equal(expectedStatusCode, result.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public void NoPrefixOfABadResponseIsAccepted(string why, string response, int expectedStatusCode)
    {
        _ = expectedStatusCode;
        byte[] bytes = Bytes(response);

        for (int length = 0; length < bytes.Length; length++)
        {
            var result = Handshake.ParseServerResponse(bytes.AsSpan(0, length), RfcKey, ["chat", "json"], out _);

            Assert.True(result.Status != ClientHandshakeStatus.Accepted, $"{why} at {length}");
        }
    }

    [Fact]
    public void AnOfferedSubProtocolIsAccepted()
    {
        string[] offered = ["chat", "json"];
        string response = RfcResponse.Replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: json\r\n\r\n");

        var result = Handshake.ParseServerResponse(Bytes(response), RfcKey, offered, out _);

        Assert.Equal(ClientHandshakeStatus.Accepted, result.Status);
        Assert.Same(offered[1], result.SubProtocol);
    }

    [Fact]
    public void AnOversizedResponseHeadFails()
    {
        byte[] bytes = Bytes("HTTP/1.1 101 Switching Protocols\r\nX-Pad: " + new string('p', 9000));

        var result = Handshake.ParseServerResponse(bytes, RfcKey, null, out _);

        Assert.Equal(ClientHandshakeStatus.Failed, result.Status);
    }
}
