using System.Buffers.Binary;
using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

public class WebSocketReaderErrorTests
{
    private const uint Key = 0x3D21FA37;

    private static readonly ReaderOptions Server = new();
    private static readonly ReaderOptions Client = new() { ExpectMasked = false };

    /// <summary>A masked frame as a client sends it.</summary>
    private static byte[] Frame(WebSocketOpcode opcode, bool fin, ReadOnlySpan<byte> payload, uint? key = Key)
    {
        byte[] frame = new byte[FrameWriter.HeaderSize(payload.Length, key.HasValue) + payload.Length];
        FrameWriter.WriteFrame(frame, opcode, fin, payload, key);
        return frame;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] ClosePayload(ushort code, params byte[] reason)
    {
        byte[] payload = new byte[2 + reason.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        reason.CopyTo(payload, 2);
        return payload;
    }

    public static TheoryData<string, byte[], bool, int> Failures()
    {
        byte[] rsv1 = Frame(WebSocketOpcode.Text, true, "hi"u8);
        rsv1[0] |= 0x40;
        byte[] rsv3 = Frame(WebSocketOpcode.Binary, true, [1]);
        rsv3[0] |= 0x10;

        var data = new TheoryData<string, byte[], bool, int>
        {
            { "RSV1 set", rsv1, true, (int)ReadError.ReservedBitsSet },
            { "RSV3 set", rsv3, true, (int)ReadError.ReservedBitsSet },
            { "ping of 126 bytes", Frame(WebSocketOpcode.Ping, true, new byte[126]), true, (int)ReadError.ControlFrameTooLong },
            { "close of 126 bytes", Frame(WebSocketOpcode.Close, true, new byte[126]), true, (int)ReadError.ControlFrameTooLong },
            { "ping without FIN", Frame(WebSocketOpcode.Ping, false, [1, 2]), true, (int)ReadError.ControlFrameFragmented },
            { "continuation first", Frame(WebSocketOpcode.Continuation, true, "x"u8), true, (int)ReadError.UnexpectedContinuation },
            { "continuation after a whole message", Concat(Frame(WebSocketOpcode.Text, true, "a"u8), Frame(WebSocketOpcode.Continuation, true, "b"u8)), true, (int)ReadError.UnexpectedContinuation },
            { "text inside a text message", Concat(Frame(WebSocketOpcode.Text, false, "a"u8), Frame(WebSocketOpcode.Text, true, "b"u8)), true, (int)ReadError.ExpectedContinuation },
            { "binary inside a text message", Concat(Frame(WebSocketOpcode.Text, false, "a"u8), Frame(WebSocketOpcode.Binary, true, "b"u8)), true, (int)ReadError.ExpectedContinuation },
            { "unmasked frame to a server", Frame(WebSocketOpcode.Text, true, "a"u8, key: null), true, (int)ReadError.UnmaskedFrame },
            { "masked frame to a client", Frame(WebSocketOpcode.Text, true, "a"u8), false, (int)ReadError.MaskedFrame },
            { "64-bit length with the top bit", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], true, (int)ReadError.InvalidLength },
            { "16-bit form for 125", [0x82, 0xFE, 0x00, 0x7D, 1, 2, 3, 4], true, (int)ReadError.NonMinimalLength },
            { "16-bit form for 0", [0x82, 0xFE, 0x00, 0x00, 1, 2, 3, 4], true, (int)ReadError.NonMinimalLength },
            { "64-bit form for 65535", [0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4], true, (int)ReadError.NonMinimalLength },
            { "64-bit form for 1", [0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], true, (int)ReadError.NonMinimalLength },
            { "close with a 1-byte body", Frame(WebSocketOpcode.Close, true, [0x03]), true, (int)ReadError.InvalidCloseLength },
            { "close with 1005", Frame(WebSocketOpcode.Close, true, ClosePayload(1005)), true, (int)ReadError.InvalidCloseCode },
            { "close with 999", Frame(WebSocketOpcode.Close, true, ClosePayload(999)), true, (int)ReadError.InvalidCloseCode },
            { "close with 5000", Frame(WebSocketOpcode.Close, true, ClosePayload(5000)), true, (int)ReadError.InvalidCloseCode },
            { "close reason not UTF-8", Frame(WebSocketOpcode.Close, true, ClosePayload(1000, 0x61, 0xC0, 0x80)), true, (int)ReadError.InvalidUtf8CloseReason },
            { "close reason cut in a code point", Frame(WebSocketOpcode.Close, true, ClosePayload(1000, 0xE2, 0x82)), true, (int)ReadError.InvalidUtf8CloseReason },
            { "text not UTF-8", Frame(WebSocketOpcode.Text, true, [0x61, 0xED, 0xA0, 0x80]), true, (int)ReadError.InvalidUtf8Text },
            { "text ending in a code point", Frame(WebSocketOpcode.Text, true, [0x61, 0xF0, 0x9F, 0x98]), true, (int)ReadError.InvalidUtf8Text },
            { "fragmented text ending in a code point", Concat(Frame(WebSocketOpcode.Text, false, [0x61, 0xF0]), Frame(WebSocketOpcode.Continuation, true, [0x9F, 0x98])), true, (int)ReadError.InvalidUtf8Text },
            { "fragments joining into a surrogate", Concat(Frame(WebSocketOpcode.Text, false, [0x61, 0xED]), Frame(WebSocketOpcode.Continuation, true, [0xB0, 0x80])), true, (int)ReadError.InvalidUtf8Text },
        };

        foreach (byte opcode in new byte[] { 3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF })
            data.Add($"opcode {opcode:X}", Frame((WebSocketOpcode)opcode, true, [1]), true, (int)ReadError.UnknownOpcode);
        return data;
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public void FailsWithTheRightCodeInAnyChunking(string name, byte[] stream, bool server, int expectedError)
    {
        var expected = (ReadError)expectedError;
        ReaderOptions options = server ? Server : Client;
        WebSocketCloseCode code = expected switch
        {
            ReadError.InvalidUtf8Text or ReadError.InvalidUtf8CloseReason => WebSocketCloseCode.InvalidPayloadData,
            _ => WebSocketCloseCode.ProtocolError,
        };

        foreach (bool bytewise in new[] { false, true })
        {
            var sink = new RecordingSink();
            var reader = new WebSocketReader();
            ReadResult result = bytewise
                ? ReaderDriver.FeedBytewise(ref reader, (byte[])stream.Clone(), options, sink)
                : ReaderDriver.FeedWhole(ref reader, (byte[])stream.Clone(), options, sink);

            Assert.True(result.IsError, name);
            Assert.Equal(expected, result.Error);
            Assert.Equal(code, result.Code);
            Assert.False(string.IsNullOrEmpty(result.Reason));
            Assert.True(reader.IsFailed);
            Assert.False(reader.HoldsBuffer);
            // Only one case has a valid message before the bad frame.
            Assert.Equal(name == "continuation after a whole message" ? 1 : 0, sink.Events.Count);
        }
    }

    [Fact]
    public void AfterAnErrorEveryReadFailsAndDeliversNothing()
    {
        var sink = new RecordingSink();
        var reader = new WebSocketReader();
        byte[] bad = Frame((WebSocketOpcode)3, true, [1]);
        Assert.Equal(ReadError.UnknownOpcode, reader.Read(bad, Server, ref sink).Error);

        byte[] good = Frame(WebSocketOpcode.Text, true, "ok"u8);
        ReadResult again = reader.Read(good, Server, ref sink);

        Assert.Equal(ReadError.UnknownOpcode, again.Error);
        Assert.Empty(sink.Events);
    }

    [Fact]
    public void NothingIsDeliveredAfterAClose()
    {
        byte[] stream = Concat(
            Frame(WebSocketOpcode.Text, false, "par"u8),
            Frame(WebSocketOpcode.Close, true, ClosePayload(1001, "away"u8.ToArray())),
            Frame(WebSocketOpcode.Continuation, true, "tial"u8),
            Frame(WebSocketOpcode.Ping, true, [9]));
        var pool = new CountingBytePool(256);

        foreach (bool bytewise in new[] { false, true })
        {
            var sink = new RecordingSink();
            var reader = new WebSocketReader();
            var options = new ReaderOptions { Pool = pool };
            ReadResult result = bytewise
                ? ReaderDriver.FeedBytewise(ref reader, (byte[])stream.Clone(), options, sink)
                : ReaderDriver.FeedWhole(ref reader, (byte[])stream.Clone(), options, sink);

            Assert.False(result.IsError);
            SinkEvent close = Assert.Single(sink.Events);
            Assert.Equal(("Close", (ushort)1001), (close.Kind, close.Code));
            Assert.Equal("away"u8.ToArray(), close.Payload);
            Assert.True(reader.IsCloseReceived);
            Assert.False(reader.HoldsBuffer);
            Assert.Equal(0, pool.Outstanding);
        }
    }

    [Fact]
    public void EmptyCloseIsReportedAs1005()
    {
        var sink = new RecordingSink();
        var reader = new WebSocketReader();
        Assert.False(reader.Read(Frame(WebSocketOpcode.Close, true, []), Server, ref sink).IsError);
        Assert.Equal((ushort)1005, Assert.Single(sink.Events).Code);
    }

    [Fact]
    public void InvalidUtf8EarlyInALargeTextFrameFailsBeforeTheRestArrives()
    {
        byte[] text = StreamBuilder.RandomUtf8(new Random(3), 200_000);
        text[10] = 0xFF;
        byte[] frame = Frame(WebSocketOpcode.Text, true, text);
        var sink = new RecordingSink();
        var reader = new WebSocketReader();
        var pool = new CountingBytePool(4096);
        var options = new ReaderOptions { Pool = pool };

        Assert.False(reader.Read(frame.AsSpan(0, 8), options, ref sink).IsError);  // header and 2 payload bytes
        ReadResult result = reader.Read(frame.AsSpan(8, 1000), options, ref sink);

        Assert.Equal(WebSocketCloseCode.InvalidPayloadData, result.Code);
        Assert.Equal(ReadError.InvalidUtf8Text, result.Error);
        Assert.False(reader.HoldsBuffer);
        Assert.Empty(sink.Events);
    }

    [Fact]
    public void InvalidUtf8InAMiddleFragmentFailsBeforeTheLastFragment()
    {
        byte[] stream = Concat(
            Frame(WebSocketOpcode.Text, false, "caf\u00e9 "u8),
            Frame(WebSocketOpcode.Continuation, false, [0x61, 0xF4, 0x90, 0x80, 0x80]));
        var sink = new RecordingSink();
        var reader = new WebSocketReader();

        ReadResult result = ReaderDriver.FeedBytewise(ref reader, stream, Server, sink);

        Assert.Equal(ReadError.InvalidUtf8Text, result.Error);
    }

    [Fact]
    public void AnnouncedFrameOverTheLimitFailsFromItsHeader()
    {
        var options = new ReaderOptions { MaxMessageSize = 1000 };
        byte[] header = new byte[FrameHeader.MaxLength];
        int length = FrameWriter.WriteHeader(header, WebSocketOpcode.Binary, true, 1001, Key);
        var sink = new RecordingSink();
        var reader = new WebSocketReader();

        ReadResult result = reader.Read(header.AsSpan(0, length), options, ref sink);

        Assert.Equal(WebSocketCloseCode.MessageTooBig, result.Code);
        Assert.False(reader.HoldsBuffer);
    }

    [Fact]
    public void FrameAtTheLimitIsAccepted()
    {
        var options = new ReaderOptions { MaxMessageSize = 1000 };
        var sink = new RecordingSink();
        var reader = new WebSocketReader();
        byte[] stream = Concat(Frame(WebSocketOpcode.Binary, false, new byte[400]), Frame(WebSocketOpcode.Continuation, true, new byte[600]));

        Assert.False(ReaderDriver.Feed(ref reader, stream, options, sink, _ => 333).IsError);
        Assert.Equal(1000, Assert.Single(sink.Events).Payload.Length);
    }

    [Fact]
    public void FragmentedMessageOverTheLimitFailsAtTheFragmentThatPassesIt()
    {
        var options = new ReaderOptions { MaxMessageSize = 1000, Pool = new CountingBytePool(4096) };
        byte[] first = Frame(WebSocketOpcode.Binary, false, new byte[600]);
        byte[] second = Frame(WebSocketOpcode.Continuation, false, new byte[401]);
        var sink = new RecordingSink();
        var reader = new WebSocketReader();

        Assert.False(reader.Read(first, options, ref sink).IsError);
        Assert.True(reader.HoldsBuffer);
        ReadResult result = reader.Read(second.AsSpan(0, 8), options, ref sink);  // header only

        Assert.Equal(ReadError.MessageTooBig, result.Error);
        Assert.Equal(WebSocketCloseCode.MessageTooBig, result.Code);
        Assert.False(reader.HoldsBuffer);
    }
}
