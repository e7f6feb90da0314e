using System.Text;
using WsGen.Protocol;
using static WsGen.Tests.HandshakeTests.HandshakeTestHttp;

namespace WsGen.Tests.HandshakeTests;

public class HttpRequestParserTests
{
    private static readonly string s_fullRequest = Join("GET /chat/room?x=1&y=2 HTTP/1.1",
    [
        "host: server.example.com:8080",
        "Upgrade: WebSocket",
        "Connection: keep-alive",
        "X-Custom:   padded value \t",
        "Sec-WebSocket-Key:" + RfcKey,
        "SEC-WEBSOCKET-VERSION: 13",
        "Sec-WebSocket-Protocol: chat, superchat",
        "Connection: Upgrade",
        "Sec-WebSocket-Protocol: v2.json",
        "Sec-WebSocket-Extensions: permessage-deflate",
        "Origin: http://example.com",
    ]);

    [Fact]
    public void ParsesEveryFieldTheHandshakeNeeds()
    {
        byte[] bytes = Bytes(s_fullRequest);

        var status = HttpRequestParser.TryParse(bytes, HandshakeLimits.Default, out var head, out int consumed);

        Assert.Equal(HttpParseStatus.Complete, status);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(bytes.Length, head.Length);
        Assert.False(head.Error.IsError);
        Assert.Equal("GET", head.Method);
        Assert.Equal("/chat/room", head.Path);
        Assert.Equal("x=1&y=2", head.Query);
        Assert.Equal((1, 1), (head.VersionMajor, head.VersionMinor));
        Assert.Equal("server.example.com:8080", head.Host);
        Assert.Equal("WebSocket", head.Upgrade);
        Assert.Equal("keep-alive, Upgrade", head.Connection);
        Assert.Equal(RfcKey, head.SecWebSocketKey);
        Assert.Equal("13", head.SecWebSocketVersion);
        Assert.Equal(["chat", "superchat", "v2.json"], head.SubProtocols);
        Assert.Equal("permessage-deflate", head.SecWebSocketExtensions);
        Assert.Equal("http://example.com", head.Origin);
        Assert.Equal(11, head.HeaderCount);
    }

    [Fact]
    public void AbsentOptionalFieldsAreNullOrEmpty()
    {
        var status = HttpRequestParser.TryParse(Bytes("GET / HTTP/1.1\r\n\r\n"), HandshakeLimits.Default, out var head, out _);

        Assert.Equal(HttpParseStatus.Complete, status);
        Assert.Equal("/", head.Path);
        Assert.Null(head.Query);
        Assert.Null(head.Host);
        Assert.Null(head.Origin);
        Assert.Empty(head.SubProtocols);
        Assert.Equal(0, head.HeaderCount);
    }

    [Fact]
    public void LaterOneDotXVersionsAreAccepted()
    {
        var status = HttpRequestParser.TryParse(Bytes(RequestWithLine("GET / HTTP/1.2")), HandshakeLimits.Default, out var head, out _);

        Assert.Equal(HttpParseStatus.Complete, status);
        Assert.Equal((1, 2), (head.VersionMajor, head.VersionMinor));
    }

    [Fact]
    public void EverySplitPointNeedsMoreUntilTheBlankLineThenGivesTheSameHead()
    {
        byte[] head = Bytes(s_fullRequest);
        byte[] frame = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        byte[] stream = [.. head, .. frame];
        HttpRequestParser.TryParse(head, HandshakeLimits.Default, out var expected, out _);

        for (int length = 0; length <= stream.Length; length++)
        {
            var status = HttpRequestParser.TryParse(stream.AsSpan(0, length), HandshakeLimits.Default, out var parsed, out int consumed);

            if (length < head.Length)
            {
                Assert.Equal(HttpParseStatus.NeedMore, status);
                Assert.Equal(0, consumed);
            }
            else
            {
                Assert.Equal(HttpParseStatus.Complete, status);
                Assert.Equal(head.Length, consumed);
                Assert.Equal(expected.Method, parsed.Method);
                Assert.Equal(expected.Path, parsed.Path);
                Assert.Equal(expected.Query, parsed.Query);
                Assert.Equal(expected.Connection, parsed.Connection);
                Assert.Equal(expected.SecWebSocketKey, parsed.SecWebSocketKey);
                Assert.Equal(expected.SubProtocols, parsed.SubProtocols);
                Assert.Equal(expected.Origin, parsed.Origin);
            }
        }
    }

    [Fact]
    public void BytesAfterTheHeadAreLeftForTheFrameReader()
    {
        byte[] head = Bytes(Request());
        byte[] stream = [.. head, .. "\r\n\r\nGET / HTTP/1.1\r\n"u8];

        var status = HttpRequestParser.TryParse(stream, HandshakeLimits.Default, out _, out int consumed);

        Assert.Equal(HttpParseStatus.Complete, status);
        Assert.Equal(head.Length, consumed);
    }

    public static TheoryData<string, string, int> Refusals => new()
    {
        { "bare LF ending a header", "GET / HTTP/1.1\r\nHost: a\nUpgrade: websocket\r\n\r\n", 400 },
        { "bare LF ending the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400 },
        { "bare LF blank line", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400 },
        { "bare CR inside a value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400 },
        { "obs-fold continuation", "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive,\r\n Upgrade\r\n\r\n", 400 },
        { "tab obs-fold", "GET / HTTP/1.1\r\nHost: a\r\n\tUpgrade\r\n\r\n", 400 },
        { "space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400 },
        { "empty header name", "GET / HTTP/1.1\r\n: a\r\n\r\n", 400 },
        { "no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", 400 },
        { "control char in value", "GET / HTTP/1.1\r\nHost: a\u0001b\r\n\r\n", 400 },
        { "NUL in value", "GET / HTTP/1.1\r\nHost: a\0\r\n\r\n", 400 },
        { "empty line before the request line", "\r\nGET / HTTP/1.1\r\n\r\n", 400 },
        { "method not a token", "G(T / HTTP/1.1\r\n\r\n", 400 },
        { "two spaces after method", "GET  / HTTP/1.1\r\n\r\n", 400 },
        { "no version (HTTP/0.9 style)", "GET /\r\n\r\n", 400 },
        { "absolute-form target", "GET http://a/ HTTP/1.1\r\n\r\n", 400 },
        { "asterisk target", "OPTIONS * HTTP/1.1\r\n\r\n", 400 },
        { "fragment in target", "GET /a#b HTTP/1.1\r\n\r\n", 400 },
        { "lowercase version", "GET / http/1.1\r\n\r\n", 400 },
        { "trailing space after version", "GET / HTTP/1.1 \r\n\r\n", 400 },
        { "HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\n\r\n", 400 },
        { "HTTP/0.9 version token", "GET / HTTP/0.9\r\n\r\n", 400 },
        { "HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505 },
        { "duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400 },
        { "duplicate key", Request("Sec-WebSocket-Key: " + RfcKey).Replace("\r\n\r\n", "\r\nSec-WebSocket-Key: " + RfcKey + "\r\n\r\n"), 400 },
        { "duplicate version", "GET / HTTP/1.1\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13\r\n\r\n", 400 },
        { "duplicate Origin", "GET / HTTP/1.1\r\nOrigin: a\r\nOrigin: b\r\n\r\n", 400 },
        { "subprotocol not a token", "GET / HTTP/1.1\r\nSec-WebSocket-Protocol: chat, sup(er)\r\n\r\n", 400 },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void MalformedHeadsAreRefusedWithTheDocumentedStatus(string why, string request, int expectedStatus)
    {
        var status = HttpRequestParser.TryParse(Bytes(request), HandshakeLimits.Default, out var head, out int consumed);

        Assert.True(status == HttpParseStatus.Error, why);
        Assert.Equal(expectedStatus, head.Error.StatusCode);
        Assert.False(string.IsNullOrEmpty(head.Error.Detail));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void AnErrorIsReportedBeforeTheHeadEnds()
    {
        var status = HttpRequestParser.TryParse(Bytes("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nUpgr"), HandshakeLimits.Default, out var head, out _);

        Assert.Equal(HttpParseStatus.Error, status);
        Assert.Equal(400, head.Error.StatusCode);
    }

    [Fact]
    public void TooManyHeadersGive431()
    {
        var limits = new HandshakeLimits { MaxHeaderCount = 8 };
        var headers = Enumerable.Range(0, 9).Select(i => $"X-H{i}: {i}");
        var atLimit = Join("GET / HTTP/1.1", headers.Take(8));
        var overLimit = Join("GET / HTTP/1.1", headers);

        Assert.Equal(HttpParseStatus.Complete, HttpRequestParser.TryParse(Bytes(atLimit), limits, out _, out _));
        Assert.Equal(HttpParseStatus.Error, HttpRequestParser.TryParse(Bytes(overLimit), limits, out var head, out _));
        Assert.Equal(431, head.Error.StatusCode);
    }

    [Fact]
    public void TooManyHeadersWithTheDefaultLimitGive431()
    {
        var request = Join("GET / HTTP/1.1", Enumerable.Range(0, 65).Select(i => $"X-{i}: v"));

        Assert.Equal(HttpParseStatus.Error, HttpRequestParser.TryParse(Bytes(request), HandshakeLimits.Default, out var head, out _));
        Assert.Equal(431, head.Error.StatusCode);
    }

    [Fact]
    public void AHeadOfExactlyMaxHeaderBytesIsAcceptedAndOneMoreByteIsNot()
    {
        var limits = new HandshakeLimits { MaxHeaderBytes = 200 };
        string request = PaddedRequest(200);
        string tooLong = PaddedRequest(201);

        Assert.Equal(HttpParseStatus.Complete, HttpRequestParser.TryParse(Bytes(request), limits, out _, out int consumed));
        Assert.Equal(200, consumed);
        Assert.Equal(HttpParseStatus.Error, HttpRequestParser.TryParse(Bytes(tooLong), limits, out var head, out _));
        Assert.Equal(431, head.Error.StatusCode);
    }

    [Fact]
    public void AHeadThatWillExceedTheLimitIsRefusedBeforeTheBlankLineArrives()
    {
        var limits = new HandshakeLimits { MaxHeaderBytes = 256 };
        var partial = new StringBuilder("GET / HTTP/1.1\r\n");
        while (partial.Length < 300)
        {
            partial.Append("X-Pad: aaaaaaaaaaaaaaaa\r\n");
        }

        byte[] bytes = Bytes(partial.ToString());
        Assert.Equal(HttpParseStatus.NeedMore, HttpRequestParser.TryParse(bytes.AsSpan(0, 255), limits, out _, out _));

        var status = HttpRequestParser.TryParse(bytes.AsSpan(0, 256), limits, out var head, out _);

        Assert.Equal(HttpParseStatus.Error, status);
        Assert.Equal(431, head.Error.StatusCode);
    }

    [Fact]
    public void AHugeSingleHeaderLineIsRefusedWithoutItsLineEnd()
    {
        byte[] bytes = Bytes("GET / HTTP/1.1\r\nCookie: " + new string('a', 9000));

        var status = HttpRequestParser.TryParse(bytes, HandshakeLimits.Default, out var head, out _);

        Assert.Equal(HttpParseStatus.Error, status);
        Assert.Equal(431, head.Error.StatusCode);
    }

    [Fact]
    public void ATooLongTargetGives414EvenBeforeTheRequestLineEnds()
    {
        var limits = new HandshakeLimits { MaxRequestTargetLength = 32 };
        string atLimit = "/" + new string('a', 31);
        string overLimit = "/" + new string('a', 32);

        Assert.Equal(HttpParseStatus.Complete, HttpRequestParser.TryParse(Bytes(RequestWithLine($"GET {atLimit} HTTP/1.1")), limits, out _, out _));
        Assert.Equal(HttpParseStatus.Error, HttpRequestParser.TryParse(Bytes(RequestWithLine($"GET {overLimit} HTTP/1.1")), limits, out var complete, out _));
        Assert.Equal(414, complete.Error.StatusCode);
        Assert.Equal(HttpParseStatus.NeedMore, HttpRequestParser.TryParse(Bytes($"GET {atLimit}"), limits, out _, out _));
        Assert.Equal(HttpParseStatus.Error, HttpRequestParser.TryParse(Bytes($"GET {overLimit}"), limits, out var partial, out _));
        Assert.Equal(414, partial.Error.StatusCode);
    }

    /// <summary>Found by the http-request fuzz target (tests/fuzz/regressions/http-request): a request line whose
    /// target was too long already gave 414 while it arrived, but 400 once its (bad) end arrived, so the answer
    /// depended on how the bytes were cut. Every prefix that fails must fail with the status of the whole.</summary>
    [Theory]
    [InlineData("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\n\r\n")]     // a bare LF ends the line
    [InlineData("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\rX HTTP/1.1\r\n\r\n")] // a CR inside it
    [InlineData("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n")]         // no version after the target
    public void ATooLongTargetGives414WhateverEndsTheLineAndHoweverTheBytesAreCut(string request)
    {
        var limits = new HandshakeLimits { MaxRequestTargetLength = 32 };
        byte[] bytes = Bytes(request);

        for (int length = 1; length <= bytes.Length; length++)
        {
            var status = HttpRequestParser.TryParse(bytes.AsSpan(0, length), limits, out var head, out _);
            if (status == HttpParseStatus.Error)
                Assert.Equal(414, head.Error.StatusCode);
        }

        Assert.Equal(HttpParseStatus.Error, HttpRequestParser.TryParse(bytes, limits, out var whole, out _));
        Assert.Equal(414, whole.Error.StatusCode);
    }

    [Fact]
    public void LimitsMustBePositive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandshakeLimits { MaxHeaderBytes = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandshakeLimits { MaxHeaderCount = -1 });
    }

    /// <summary>A complete request of exactly <paramref name="length"/> bytes.</summary>
    private static string PaddedRequest(int length)
    {
        string shell = "GET / HTTP/1.1\r\nX-Pad: \r\n\r\n";
        return shell.Replace("X-Pad: ", "X-Pad: " + new string('p', length - shell.Length));
    }
}
