using WsGen.Protocol;
using static WsGen.Tests.HandshakeTests.HandshakeTestHttp;

namespace WsGen.Tests.HandshakeTests;

/// <summary>The server's handshake path (parse, validate, answer) allocates nothing, and a subprotocol is answered with
/// the server's own string.</summary>
public class HandshakeAllocationTests
{
    private static readonly HandshakeOptions s_options = new() { SupportedSubProtocols = ["v2.json", "chat"] };

    [Fact]
    public void ParsingValidatingAndAnsweringAllocateNothing()
    {
        byte[] request = Bytes(Request("Sec-WebSocket-Protocol: superchat, chat", "Origin: http://example.com"));
        Span<byte> response = stackalloc byte[256];
        int written = Answer(request, response);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
            written = Answer(request, response);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        var parsed = ParseResponse(response[..written]);
        Assert.Equal(101, parsed.StatusCode);
        Assert.Equal(IndependentAccept(RfcKey), parsed.Single("Sec-WebSocket-Accept"));
        Assert.Equal("chat", parsed.Single("Sec-WebSocket-Protocol"));
    }

    [Fact]
    public void TheChosenSubprotocolIsTheServersOwnStringInTheServersOrder()
    {
        var decision = Decide(Request("Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: v2.json"), s_options);

        Assert.True(decision.IsAccepted);
        Assert.Same(s_options.SupportedSubProtocols![0], decision.SubProtocol);
    }

    [Fact]
    public void SupportedSubprotocolsCompareCaseSensitively()
    {
        var decision = Decide(Request("Sec-WebSocket-Protocol: CHAT, V2.JSON"), s_options);

        Assert.True(decision.IsAccepted);
        Assert.Null(decision.SubProtocol);
    }

    private static int Answer(byte[] request, Span<byte> response)
    {
        // No Assert in here: the assertion library allocates.
        if (HttpRequestParser.TryParse(request, HandshakeLimits.Default, out var head, out _) != HttpParseStatus.Complete)
            return -1;
        var decision = Handshake.Validate(in head, s_options);
        return Handshake.WriteAccept(response, in decision);
    }
}
