using System.Text;
using WsGen.Fuzz;
using WsGen.Protocol;
using WsGen.Tests.HandshakeTests;

namespace WsGen.Tests.Protocol;

/// <summary>
/// The parsers that use unsafe code (wide loads in the UTF-8 check and the masking, the reader's fast path over
/// them) and the head parsers, run over inputs that end exactly where a no-access page begins: a read or write one
/// byte past the end faults and kills the test run. Every answer must also equal the one for the same bytes in an
/// ordinary array.
/// </summary>
public class GuardPageTests
{
    private static readonly GuardedBuffer Guarded = new(1 << 20);

    [Fact]
    public unsafe void ThePlacedDataEndsWhereANoAccessMappingBegins()
    {
        Span<byte> placed = Guarded.Place([1, 2, 3]);
        ulong end;
        fixed (byte* start = placed)
            end = (ulong)(start + placed.Length);

        // /proc/self/maps: "start-end perms ...", addresses in hex; the mapping that holds the byte after the data.
        string? mapping = File.ReadLines("/proc/self/maps").FirstOrDefault(line =>
        {
            string[] range = line.Split(' ')[0].Split('-');
            return Convert.ToUInt64(range[0], 16) <= end && end < Convert.ToUInt64(range[1], 16);
        });
        Assert.NotNull(mapping);
        Assert.StartsWith("---p", mapping.Split(' ')[1]);
    }

    [Fact]
    public void Utf8ChecksStopAtTheEndOfTheirInputForEveryLength()
    {
        byte[] ascii = Encoding.ASCII.GetBytes(new string('a', 300));
        byte[] mixed = StreamBuilder.RandomUtf8(new Random(5), 300);
        foreach (byte[] source in new[] { ascii, mixed })
        {
            for (int length = 0; length <= 300; length++)
            {
                byte[] text = source[..length];
                Assert.Equal(Utf8Validator.IsValid(text), Utf8Validator.IsValid(Guarded.Place(text)));
                Assert.Equal(Utf8Validator.IsShortAscii(text), Utf8Validator.IsShortAscii(Guarded.Place(text)));

                var inArray = new Utf8Validator();
                var atGuard = new Utf8Validator();
                for (int start = 0; start < length; start += 7)
                {
                    int piece = Math.Min(7, length - start);
                    Assert.Equal(inArray.Append(text.AsSpan(start, piece)), atGuard.Append(Guarded.Place(text.AsSpan(start, piece))));
                }

                Assert.Equal(inArray.Complete(), atGuard.Complete());
            }
        }
    }

    [Fact]
    public void MaskingStopsAtTheEndOfItsInputForEveryLengthAndOffset()
    {
        var random = new Random(9);
        for (int length = 0; length <= 300; length++)
        {
            for (int offset = 0; offset < 4; offset++)
            {
                byte[] data = StreamBuilder.RandomBytes(random, length);
                uint key = (uint)random.Next() ^ 0x80000000u;
                byte[] expected = (byte[])data.Clone();
                Masking.Unmask(expected, key, offset);

                Span<byte> placed = Guarded.Place(data);
                Masking.Unmask(placed, key, offset);

                Assert.True(placed.SequenceEqual(expected), $"length {length}, offset {offset}");
                Assert.True(Guarded.CanaryIntact(), "masking wrote before its input");
            }
        }
    }

    [Fact]
    public void FrameHeadersCutAnywhereStopAtTheEndOfTheirInput()
    {
        byte[] header = new byte[FrameHeader.MaxLength];
        FrameWriter.WriteHeader(header, WebSocketOpcode.Binary, fin: true, payloadLength: 70_000, maskKey: 0x01020304);
        for (int length = 0; length <= header.Length; length++)
        {
            HeaderParseStatus status = FrameHeader.TryParse(Guarded.Place(header.AsSpan(0, length)), out FrameHeader parsed);
            Assert.Equal(length < header.Length ? HeaderParseStatus.NeedMore : HeaderParseStatus.Ok, status);
            if (status == HeaderParseStatus.Ok)
                Assert.Equal(70_000, parsed.PayloadLength);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheFrameReaderStopsAtTheEndOfEveryPrefixOfAStream(bool server)
    {
        var random = new Random(server ? 21 : 22);
        var builder = new StreamBuilder(random, masked: server);
        builder.AddMessage(WebSocketOpcode.Text, Encoding.UTF8.GetBytes("h\u00e9llo \U0001F600"));
        builder.AddMessage(WebSocketOpcode.Binary, StreamBuilder.RandomBytes(random, 130));
        builder.AddFragmented(WebSocketOpcode.Text, StreamBuilder.RandomUtf8(random, 40), 3);
        builder.AddControl(WebSocketOpcode.Ping, [1, 2, 3]);
        builder.AddMessage(WebSocketOpcode.Text, StreamBuilder.RandomUtf8(random, 70));
        byte[] stream = builder.ToArray();
        var options = new ReaderOptions { ExpectMasked = server };

        for (int length = 0; length <= stream.Length; length++)
        {
            // The prefix in one read, in an array and at the guard page: the same events and result.
            var inArray = new RecordingSink();
            var arrayReader = new WebSocketReader();
            ReadResult expected = arrayReader.Read(stream.AsSpan(0, length).ToArray(), options, ref inArray);

            var atGuard = new RecordingSink();
            var guardReader = new WebSocketReader();
            ReadResult actual = guardReader.Read(Guarded.Place(stream.AsSpan(0, length)), options, ref atGuard);

            Assert.Equal(expected.Error, actual.Error);
            Assert.Equal(inArray.Events.Count, atGuard.Events.Count);
            for (int i = 0; i < inArray.Events.Count; i++)
                Assert.True(inArray.Events[i].Matches(atGuard.Events[i]), $"prefix {length}, event {i}");
            Assert.True(Guarded.CanaryIntact(), "the reader wrote before its input");
            arrayReader.Dispose();
            guardReader.Dispose();
        }
    }

    [Fact]
    public void TheHandshakeParsersStopAtTheEndOfEveryPrefix()
    {
        byte[] request = HandshakeTestHttp.Bytes(HandshakeTestHttp.Request());
        for (int length = 0; length <= request.Length; length++)
        {
            HttpParseStatus expected = HttpRequestParser.TryParse(request.AsSpan(0, length), HandshakeLimits.Default, out _, out int expectedConsumed);
            HttpParseStatus actual = HttpRequestParser.TryParse(Guarded.Place(request.AsSpan(0, length)), HandshakeLimits.Default, out _, out int consumed);
            Assert.Equal(expected, actual);
            Assert.Equal(expectedConsumed, consumed);
        }

        byte[] response = new byte[Handshake.GetAcceptLength("chat")];
        Handshake.WriteAccept(response, Encoding.ASCII.GetBytes(HandshakeTestHttp.RfcKey), "chat");
        string[] offered = ["chat"];
        for (int length = 0; length <= response.Length; length++)
        {
            ClientHandshakeResult expected = Handshake.ParseServerResponse(response.AsSpan(0, length), HandshakeTestHttp.RfcKey, offered, out _);
            ClientHandshakeResult actual = Handshake.ParseServerResponse(Guarded.Place(response.AsSpan(0, length)), HandshakeTestHttp.RfcKey, offered, out _);
            Assert.Equal(expected.Status, actual.Status);
        }

    }
}
