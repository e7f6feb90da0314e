using System.Net;
using System.Net.Security;
using WsGen.Transport;

namespace WsGen.Tests.Transport;

/// <summary>The stream the TLS engine reads from: fed bytes reach the reads in order, whether a read waits (it takes
/// them where they are, during the feed) or not (they wait in a buffer held only while bytes wait).</summary>
public sealed class LoopStreamTests
{
    [Fact]
    public void BytesFedWhileNoReadWaits_AreBuffered_AndReadInOrder()
    {
        var stream = NewStream();
        stream.Feed("hello "u8);
        stream.Feed("world"u8);
        Assert.Equal(11, stream.Buffered);

        var buffer = new byte[4];
        Assert.Equal("hell", ReadNow(stream, buffer));
        Assert.Equal("o wo", ReadNow(stream, buffer));
        Assert.Equal("rld", ReadNow(stream, buffer));
        Assert.Equal(0, stream.Buffered);
    }

    [Fact]
    public void AWaitingRead_TakesTheFedBytes_AndTheRestWaitsForTheNextReads()
    {
        var stream = NewStream();
        var buffer = new byte[3];
        ValueTask<int> read = stream.ReadAsync(buffer);
        Assert.False(read.IsCompleted);

        byte[] fed = "abcdefgh"u8.ToArray();
        stream.Feed(fed);
        Assert.Equal(3, Completed(read));
        Assert.Equal("abc", Text(buffer, 3));
        // The rest was copied out of the fed span before Feed returned: the loop reuses its receive buffer at once.
        fed.AsSpan().Fill((byte)'x');
        Assert.Equal(5, stream.Buffered);
        Assert.Equal("def", ReadNow(stream, buffer));
        Assert.Equal("gh", ReadNow(stream, buffer));
    }

    [Fact]
    public void TheContinuationOfAZeroByteRead_ReadsDuringTheFeed_AndWhatItLeavesIsKeptInOrder()
    {
        var stream = NewStream();
        ValueTask<int> wait = stream.ReadAsync(Memory<byte>.Empty);
        Assert.False(wait.IsCompleted);
        var inside = new List<string>();
        var buffer = new byte[4];
        // As the engine does: once the zero-byte read completes, it reads (synchronously) on the feeding thread.
        Then(wait, () =>
        {
            inside.Add(ReadNow(stream, buffer));
            inside.Add(ReadNow(stream, buffer));
        });

        byte[] fed = "0123456789"u8.ToArray();
        stream.Feed(fed);
        Assert.Equal(["0123", "4567"], inside);
        // The feed's bytes are the loop's receive buffer: overwritten after the call, the rest must not change.
        fed.AsSpan().Fill((byte)'x');
        Assert.Equal(2, stream.Buffered);
        Assert.Equal("89", ReadNow(stream, buffer));

        // Bytes fed after the rest, while the rest still waits, come after it.
        ValueTask<int> next = stream.ReadAsync(Memory<byte>.Empty);
        stream.Feed("ab"u8);
        Assert.True(next.IsCompleted);
        stream.Feed("cd"u8);
        Assert.Equal("abcd", ReadNow(stream, buffer));
    }

    [Fact]
    public void EndDuringTheFeed_DropsTheRest_AndEveryLaterReadReturnsZero()
    {
        var stream = NewStream();
        ValueTask<int> wait = stream.ReadAsync(Memory<byte>.Empty);
        var buffer = new byte[2];
        string? inside = null;
        Then(wait, () =>
        {
            inside = ReadNow(stream, buffer);
            stream.End();
        });

        stream.Feed("abcdef"u8);
        Assert.Equal("ab", inside);
        Assert.Equal(0, stream.Buffered);
        Assert.Equal(0, Completed(stream.ReadAsync(buffer)));
    }

    private static string ReadNow(LoopStream stream, byte[] buffer) => Text(buffer, Completed(stream.ReadAsync(buffer)));

    private static int Completed(ValueTask<int> read)
    {
        Assert.True(read.IsCompleted, "the read completed at once");
        return read.Result;
    }

    /// <summary>Runs <paramref name="continuation"/> when <paramref name="read"/> completes, inline on the thread that
    /// completes it, as the engine's continuation runs.</summary>
    private static void Then(ValueTask<int> read, Action continuation) =>
        read.AsTask().ContinueWith(_ => continuation(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static string Text(byte[] buffer, int length) => System.Text.Encoding.ASCII.GetString(buffer, 0, length);

    private static LoopStream NewStream()
    {
        var listener = new TlsListener(new SslServerAuthenticationOptions(), maxHandshakes: 1);
        return new LoopStream(new TlsTransform(listener, new NoConn()));
    }

    /// <summary>A connection the stream's owner is made for; these tests never write through it.</summary>
    private sealed class NoConn : IReactorConn
    {
        public long WaitingBytes => 0;

        public bool Overflowed => false;

        public object? Context { get; set; }

        public int Read(Span<byte> buffer) => throw new NotSupportedException();

        public int Write(ReadOnlySpan<byte> data) => throw new NotSupportedException();

        public int WriteShared(ReadOnlySpan<byte> data, ref SharedBytes shared) => throw new NotSupportedException();

        public void Close()
        {
        }

        public void Abort()
        {
        }

        public void AttachTransform(IByteTransform transform) => throw new NotSupportedException();
    }
}
