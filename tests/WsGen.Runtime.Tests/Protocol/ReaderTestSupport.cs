using System.Text;
using WsGen.Protocol;

namespace WsGen.Tests.Protocol;

/// <summary>What a sink saw: a message, a ping, a pong or a close, with a copy of its payload.</summary>
internal sealed record SinkEvent(string Kind, byte[] Payload, ushort Code = 0)
{
    public static SinkEvent Message(WebSocketOpcode opcode, byte[] payload) => new(opcode.ToString(), payload);

    public bool Matches(SinkEvent other) => Kind == other.Kind && Code == other.Code && Payload.AsSpan().SequenceEqual(other.Payload);

    public override string ToString() => $"{Kind}({Payload.Length} bytes{(Code != 0 ? $", code {Code}" : "")})";
}

/// <summary>Records every sink call with a copy of its payload, and whether the payload lay in <see cref="Input"/>.</summary>
internal sealed class RecordingSink : IFrameSink
{
    public List<SinkEvent> Events { get; } = [];

    /// <summary>The array the current Read's data lies in, for the zero-copy checks.</summary>
    public byte[]? Input { get; set; }

    public List<bool> InInput { get; } = [];

    public void OnMessage(WebSocketOpcode opcode, Span<byte> payload) => Record(opcode.ToString(), payload);

    public void OnTransformedMessage(WebSocketOpcode opcode, Span<byte> payload) => Record("Rsv1 " + opcode, payload);

    public void OnPing(Span<byte> payload) => Record("Ping", payload);

    public void OnPong(Span<byte> payload) => Record("Pong", payload);

    public void OnClose(ushort code, ReadOnlySpan<byte> reason)
    {
        InInput.Add(Input is not null && !reason.IsEmpty && reason.Overlaps(Input));
        Events.Add(new SinkEvent("Close", reason.ToArray(), code));
    }

    private void Record(string kind, Span<byte> payload)
    {
        InInput.Add(Input is not null && !payload.IsEmpty && payload.Overlaps(Input));
        Events.Add(new SinkEvent(kind, payload.ToArray()));
    }
}

/// <summary>A sink that allocates nothing: it only counts and sums.</summary>
internal struct CountingSink : IFrameSink
{
    public int Messages;
    public int Controls;
    public long Bytes;

    public void OnMessage(WebSocketOpcode opcode, Span<byte> payload)
    {
        Messages++;
        Bytes += payload.Length;
    }

    public void OnTransformedMessage(WebSocketOpcode opcode, Span<byte> payload) => OnMessage(opcode, payload);

    public void OnPing(Span<byte> payload) => Controls++;

    public void OnPong(Span<byte> payload) => Controls++;

    public void OnClose(ushort code, ReadOnlySpan<byte> reason) => Controls++;
}

/// <summary>Builds a byte stream of frames with <see cref="FrameWriter"/> and the sink events it must produce.</summary>
internal sealed class StreamBuilder(Random random, bool masked)
{
    private readonly List<byte> _bytes = [];

    public List<SinkEvent> Expected { get; } = [];

    public byte[] ToArray() => [.. _bytes];

    /// <summary>Appends one frame as it goes on the wire (masked with a random key when the builder masks).</summary>
    public void AddFrame(WebSocketOpcode opcode, bool fin, ReadOnlySpan<byte> payload)
    {
        uint? key = masked ? (uint)random.Next() ^ ((uint)random.Next(4) << 30) : null;
        byte[] frame = new byte[FrameWriter.HeaderSize(payload.Length, masked) + payload.Length];
        int written = FrameWriter.WriteFrame(frame, opcode, fin, payload, key);
        Assert.Equal(frame.Length, written);
        _bytes.AddRange(frame);
    }

    public void AddMessage(WebSocketOpcode opcode, byte[] payload)
    {
        AddFrame(opcode, fin: true, payload);
        Expected.Add(SinkEvent.Message(opcode, payload));
    }

    public void AddControl(WebSocketOpcode opcode, byte[] payload)
    {
        AddFrame(opcode, fin: true, payload);
        Expected.Add(new SinkEvent(opcode.ToString(), payload));
    }

    public void AddClose(ushort code, string reason)
    {
        byte[] frame = new byte[FrameHeader.MaxLength + CloseCodes.MaxPayloadLength];
        int written = FrameWriter.WriteClose(frame, code, reason, masked ? (uint)random.Next() : null);
        _bytes.AddRange(frame.AsSpan(0, written));
        Expected.Add(new SinkEvent("Close", Encoding.UTF8.GetBytes(reason), code));
    }

    /// <summary>Appends a message cut into fragments at random byte positions (inside code points too), with
    /// pings and pongs between some fragments.</summary>
    public void AddFragmented(WebSocketOpcode opcode, byte[] payload, int fragments)
    {
        int[] cuts = new int[fragments - 1];
        for (int i = 0; i < cuts.Length; i++)
            cuts[i] = random.Next(payload.Length + 1);
        Array.Sort(cuts);

        int start = 0;
        for (int i = 0; i < fragments; i++)
        {
            int end = i < cuts.Length ? cuts[i] : payload.Length;
            AddFrame(i == 0 ? opcode : WebSocketOpcode.Continuation, fin: i == fragments - 1, payload.AsSpan(start, end - start));
            start = end;
            if (i < fragments - 1 && random.Next(3) == 0)
                AddControl(random.Next(2) == 0 ? WebSocketOpcode.Ping : WebSocketOpcode.Pong, RandomBytes(random, random.Next(126)));
        }

        Expected.Add(SinkEvent.Message(opcode, payload));
    }

    /// <summary>Appends a random message, ping or pong: text with 1- to 4-byte code points or binary, 0 to about 300 KB,
    /// fragmented one time in three.</summary>
    public void AddRandom()
    {
        int kind = random.Next(10);
        if (kind == 9)
        {
            AddControl(random.Next(2) == 0 ? WebSocketOpcode.Ping : WebSocketOpcode.Pong, RandomBytes(random, random.Next(126)));
            return;
        }

        int size = random.Next(100) switch
        {
            < 60 => random.Next(200),
            < 88 => random.Next(200, 70_000),
            _ => random.Next(70_000, 300_000),
        };
        WebSocketOpcode opcode = kind < 5 ? WebSocketOpcode.Text : WebSocketOpcode.Binary;
        byte[] payload = opcode == WebSocketOpcode.Text ? RandomUtf8(random, size) : RandomBytes(random, size);
        if (random.Next(3) == 0)
            AddFragmented(opcode, payload, random.Next(1, 8));
        else
            AddMessage(opcode, payload);
    }

    public static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>About <paramref name="approximateLength"/> bytes of valid UTF-8 mixing ASCII, 2-, 3- and 4-byte code
    /// points, noncharacters and U+10FFFF.</summary>
    public static byte[] RandomUtf8(Random random, int approximateLength)
    {
        var text = new StringBuilder();
        int bytes = 0;
        while (bytes < approximateLength)
        {
            int scalar = random.Next(8) switch
            {
                0 or 1 or 2 => random.Next(0x20, 0x7F),
                3 => random.Next(0x80, 0x800),
                4 => random.Next(0x800, 0xD800),
                5 => random.Next(0xE000, 0x10000),
                6 => random.Next(0x10000, 0x110000),
                _ => random.Next(5) switch { 0 => 0xFFFE, 1 => 0xFFFF, 2 => 0xFDD0, 3 => 0x10FFFF, _ => 0x1F600 },
            };
            var rune = new Rune(scalar);
            text.Append(rune.ToString());
            bytes += rune.Utf8SequenceLength;
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}

/// <summary>Feeds a stream to a reader in chunks, through one reused receive buffer as a loop would.</summary>
internal static class ReaderDriver
{
    /// <summary>Feeds <paramref name="stream"/> cut by <paramref name="nextChunk"/> (given the bytes left) and returns the
    /// first error, or success. Stops at the first error.</summary>
    public static ReadResult Feed(ref WebSocketReader reader, byte[] stream, ReaderOptions options, RecordingSink sink, Func<int, int> nextChunk)
    {
        byte[] receive = new byte[Math.Max(1, stream.Length)];
        sink.Input = receive;
        int position = 0;
        while (position < stream.Length)
        {
            int length = Math.Clamp(nextChunk(stream.Length - position), 1, stream.Length - position);
            stream.AsSpan(position, length).CopyTo(receive);
            ReadResult result = reader.Read(receive.AsSpan(0, length), options, ref sink);
            // Whatever the reader kept must not point into the receive buffer, which the next read overwrites.
            receive.AsSpan(0, length).Fill(0xCC);
            position += length;
            if (result.IsError)
                return result;
        }

        return default;
    }

    public static ReadResult FeedWhole(ref WebSocketReader reader, byte[] stream, ReaderOptions options, RecordingSink sink)
        => Feed(ref reader, stream, options, sink, left => left);

    public static ReadResult FeedBytewise(ref WebSocketReader reader, byte[] stream, ReaderOptions options, RecordingSink sink)
        => Feed(ref reader, stream, options, sink, _ => 1);
}
