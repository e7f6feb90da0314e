using System.IO.Compression;
using WsGen.Protocol;

namespace WsGen.Tests.Deflate;

/// <summary>The permessage-deflate decode path on its own (<see cref="PerMessageDeflate.TryDecode"/>), for the cases
/// the inflate fuzz target found (tests/fuzz/README.md).</summary>
public sealed class InflaterTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_final_block_that_ends_one_byte_past_the_limit_fails_with_1009(bool dedicated)
    {
        byte[] message = "Hello"u8.ToArray();
        byte[] compressed = WithFinalBlock(message);
        var context = new DeflateContext(DeflateEngine.Zlib, 256);
        PerMessageDeflate transform = Transform(context, dedicated);

        Assert.False(transform.TryDecode(compressed.ToArray(), message.Length - 1, out _, out var failure));
        Assert.Equal(WebSocketCloseCode.MessageTooBig, failure);
        // At the limit exactly, it passes; the failure left nothing behind.
        Assert.True(transform.TryDecode(compressed.ToArray(), message.Length, out var decoded, out _));
        Assert.Equal(message, decoded.ToArray());
        transform.Dispose();
    }

    [Theory]
    [InlineData(300)]    // the pool's arrays for chunks of 300 bytes are 512 long
    [InlineData(1000)]
    [InlineData(256)]
    public void Messages_over_several_chunks_of_any_size_come_back_whole(int chunkSize)
    {
        byte[] message = [.. Enumerable.Range(0, 5000).Select(i => (byte)(i * 7 % 251))];
        byte[] compressed = WithFinalBlock(message);
        PerMessageDeflate transform = Transform(new DeflateContext(DeflateEngine.Zlib, chunkSize), dedicated: false);

        Assert.True(transform.TryDecode(compressed, message.Length, out var decoded, out _));
        Assert.Equal(message, decoded.ToArray());
    }

    private static PerMessageDeflate Transform(DeflateContext context, bool dedicated) => dedicated
        ? context.Dedicated(15, 15, resetDeflater: false, resetInflater: false, threshold: 1)
        : context.Shared(new DeflateParameters(true, true, 0, 0), threshold: 1);

    /// <summary>A whole raw deflate stream, its last block final (BFINAL): RFC 7692 section 7.2.3.3 lets a sender end
    /// a message so.</summary>
    private static byte[] WithFinalBlock(byte[] message)
    {
        var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
            deflate.Write(message);
        return output.ToArray();
    }
}
