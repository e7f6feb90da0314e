using System.IO.Compression;
using System.Text;
using WsGen.Protocol;

namespace WsGen.Tests.Deflate;

/// <summary>
/// The client's half of permessage-deflate for tests, on .NET's own deflate (System.IO.Compression, zlib-ng inside the
/// runtime): another implementation than the server's, so a test checks the wire format, not WsGen against itself.
/// DeflateStream always compresses with a 15-bit window; when the server asked for a smaller client window, messages
/// are compressed with WsGen's <see cref="Deflater"/> instead (DeflateStream cannot be told the window).
/// </summary>
internal sealed class DeflatePeer(DeflateParameters agreed) : IDisposable
{
    private static readonly byte[] Tail = [0x00, 0x00, 0xFF, 0xFF];
    private readonly Deflater? _smallWindow = agreed.ClientWindowBits is > 0 and < 15 ? new Deflater(DeflateEngine.Zlib, agreed.ClientWindowBits, 8) : null;
    private readonly DeflateBuffer _smallWindowBuffer = new(1024);
    private MemoryStream? _compressed;
    private DeflateStream? _compressor;
    private FeedStream? _feed;
    private DeflateStream? _decompressor;

    public DeflateParameters Agreed => agreed;

    /// <summary>Compresses one message as the client sends it (RSV1 payload).</summary>
    public byte[] Compress(ReadOnlySpan<byte> message)
    {
        if (_smallWindow is not null)
            return _smallWindow.Compress(message, _smallWindowBuffer, reset: agreed.ClientNoContextTakeover).ToArray();
        if (_compressor is null || agreed.ClientNoContextTakeover)
        {
            _compressor?.Dispose();
            _compressed = new MemoryStream();
            _compressor = new DeflateStream(_compressed, CompressionLevel.Optimal, leaveOpen: true);
        }
        _compressed!.SetLength(0);
        _compressor.Write(message);
        _compressor.Flush();   // a sync flush: the output ends with 00 00 FF FF
        var bytes = _compressed.ToArray();
        Assert.True(bytes.AsSpan().EndsWith(Tail), "a sync flush ends with 00 00 FF FF");
        return bytes[..^4];
    }

    /// <summary>Decompresses one RSV1 message of the server, with the tail put back.</summary>
    public byte[] Decompress(ReadOnlySpan<byte> payload)
    {
        if (_decompressor is null || agreed.ServerNoContextTakeover)
        {
            _decompressor?.Dispose();
            _feed = new FeedStream();
            _decompressor = new DeflateStream(_feed, CompressionMode.Decompress);
        }
        _feed!.Add(payload);
        _feed.Add(Tail);
        var output = new MemoryStream();
        var buffer = new byte[16384];
        int n;
        while ((n = _decompressor.Read(buffer)) > 0)
            output.Write(buffer, 0, n);
        Assert.Equal(0, _feed.Remaining);
        return output.ToArray();
    }

    /// <summary>The agreed parameters of a 101 response head (null when it has no Sec-WebSocket-Extensions).</summary>
    public static DeflateParameters? FromResponse(string head)
    {
        foreach (var line in head.Split("\r\n"))
        {
            if (!line.StartsWith("Sec-WebSocket-Extensions:", StringComparison.OrdinalIgnoreCase))
                continue;
            Assert.True(DeflateParameters.TryParse(Encoding.ASCII.GetBytes(line["Sec-WebSocket-Extensions:".Length..]), isResponse: true, out var agreed),
                $"the server's answer does not parse: {line}");
            return agreed;
        }
        return null;
    }

    public void Dispose()
    {
        _compressor?.Dispose();
        _decompressor?.Dispose();
        _smallWindow?.Dispose();
    }

    /// <summary>A stream read from bytes added to it; it reports end of data when they are used up, until more come.</summary>
    private sealed class FeedStream : Stream
    {
        private readonly Queue<byte> _bytes = new();

        public int Remaining => _bytes.Count;

        public void Add(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
                _bytes.Enqueue(b);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = 0;
            while (n < buffer.Length && _bytes.Count > 0)
                buffer[n++] = _bytes.Dequeue();
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Messages like real API traffic: JSON objects whose fields repeat and whose values change from one message
/// to the next (compressible, never identical).</summary>
internal static class JsonLike
{
    public static byte[] Message(int size, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder("[");
        int i = 0;
        while (text.Length < size)
        {
            text.Append(i++ == 0 ? "" : ",").Append("{\"id\":").Append(random.Next(1_000_000))
                .Append(",\"user\":\"user").Append(random.Next(5000)).Append("\",\"price\":").Append(random.Next(100000) / 100.0)
                .Append(",\"tags\":[\"").Append((char)('a' + random.Next(26))).Append("x\",\"live\"],\"ok\":").Append(random.Next(2) == 0 ? "true" : "false").Append('}');
        }
        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        return bytes[..size];
    }
}

/// <summary>The engines of permessage-deflate, by the names the theories show (<see cref="DeflateEngine"/> is internal,
/// and a public test method cannot take it): every deflate suite runs on zlib and on the DeflateStream fallback.</summary>
internal static class TestEngines
{
    public const string Zlib = "zlib";
    public const string DeflateStream = "deflatestream";

    public static readonly string[] Names = [Zlib, DeflateStream];

    public static TheoryData<string> Theory => [.. Names];

    /// <summary>Every engine with the shared and the dedicated mode.</summary>
    public static TheoryData<string, WebSocketCompression> WithModes()
    {
        var data = new TheoryData<string, WebSocketCompression>();
        foreach (string engine in Names)
        {
            data.Add(engine, WebSocketCompression.Shared);
            data.Add(engine, WebSocketCompression.Dedicated);
        }
        return data;
    }

    public static DeflateEngine Parse(string name) => name switch
    {
        Zlib => DeflateEngine.Zlib,
        DeflateStream => DeflateEngine.DeflateStream,
        _ => throw new ArgumentException($"No deflate engine is named '{name}'.", nameof(name)),
    };

    /// <summary>Server options that run <paramref name="engine"/>.</summary>
    public static WebSocketServerOptions Options(string engine) => new() { DeflateEngine = Parse(engine) };
}
