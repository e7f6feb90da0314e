namespace WsGen.Tests.Transport;

public sealed class InMemoryConnTests
{
    [Fact]
    public void Bytes_written_on_one_end_are_read_on_the_other()
    {
        var (a, b) = InMemoryConn.CreatePair();
        var buffer = new byte[16];

        Assert.Equal(NetConn.WouldBlock, b.Read(buffer));
        Assert.Equal(5, a.Write("hello"u8));
        Assert.Equal(3, b.Write("abc"u8));

        Assert.Equal(3, b.Read(buffer.AsSpan(0, 3)));
        Assert.Equal("hel"u8.ToArray(), buffer[..3]);
        Assert.Equal(2, b.Read(buffer));
        Assert.Equal("lo"u8.ToArray(), buffer[..2]);
        Assert.Equal(NetConn.WouldBlock, b.Read(buffer));
        Assert.Equal(3, a.Read(buffer));
        Assert.Equal("abc"u8.ToArray(), buffer[..3]);
    }

    [Fact]
    public void Reading_returns_0_after_the_peer_closed_and_everything_was_read()
    {
        var (a, b) = InMemoryConn.CreatePair();
        a.Write("xy"u8);
        a.Close();
        a.Close();
        var buffer = new byte[1];

        Assert.Equal(1, b.Read(buffer));
        Assert.Equal(1, b.Read(buffer));
        Assert.Equal(0, b.Read(buffer));
        Assert.Throws<IOException>(() => b.Write("z"u8));
        Assert.Throws<ObjectDisposedException>(() => a.Read(buffer));
        Assert.True(a.IsClosed);
    }

    [Fact]
    public void Capacity_makes_writes_partial_like_a_full_socket()
    {
        var (a, b) = InMemoryConn.CreatePair(capacity: 4);

        Assert.Equal(4, a.Write("abcdef"u8));
        Assert.Equal(0, a.Write("g"u8));
        var buffer = new byte[2];
        Assert.Equal(2, b.Read(buffer));
        Assert.Equal(2, a.Write("gh"u8));
        Assert.Equal(4, b.Available);
    }

    [Fact]
    public async Task Ends_can_be_used_from_two_threads()
    {
        var (a, b) = InMemoryConn.CreatePair(capacity: 1000);
        byte[] data = new byte[1_000_000];
        new Random(5).NextBytes(data);

        var writer = Task.Run(() =>
        {
            int sent = 0;
            while (sent < data.Length)
            {
                int n = a.Write(data.AsSpan(sent, Math.Min(777, data.Length - sent)));
                if (n == 0)
                    Thread.Yield();
                sent += n;
            }

            a.Close();
        });

        var received = new MemoryStream();
        var buffer = new byte[500];
        int read;
        while ((read = b.Read(buffer)) != 0)
        {
            if (read == NetConn.WouldBlock)
                Thread.Yield();
            else
                received.Write(buffer, 0, read);
        }

        await writer.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(data, received.ToArray());
    }
}
