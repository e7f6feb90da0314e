using System.Net.Sockets;
using WsGen.Transport;

namespace WsGen.Tests.Reactor;

/// <summary>
/// The native and io_uring loops' in-place output (<see cref="ICorkedOutput"/>): bytes taken in the cork go out in the order
/// they were taken, among ordinary writes, and the cork is handed out only inside a callback of its connection.
/// </summary>
public sealed class CorkedOutputTests
{
    /// <summary>The loops that hand out their cork: the native ones and io_uring.</summary>
    public static TheoryData<string> CorkedKinds => [.. ReactorHarness.KindList.Where(k => k != "sockets")];

    [Theory]
    [MemberData(nameof(CorkedKinds))]
    public void Bytes_taken_in_the_cork_go_out_between_the_writes_around_them(string kind)
    {
        var handler = new TestHandler
        {
            DataHook = (conn, data) =>
            {
                conn.Write("<"u8);
                Span<byte> taken = ((ICorkedOutput)conn).TakeCorked(data.Length);
                Assert.Equal(data.Length, taken.Length);
                data.CopyTo(taken);
                conn.Write(">"u8);
            },
        };
        using var harness = new ReactorHarness(kind, handler);
        using Socket client = harness.Connect();

        client.SendAll("hello"u8);

        Assert.Equal("<hello>"u8.ToArray(), client.ReceiveExactly(7));
    }

    [Theory]
    [MemberData(nameof(CorkedKinds))]
    public async Task The_cork_is_not_handed_out_off_the_loop_thread_or_outside_the_connections_callback(string kind)
    {
        var connected = new TaskCompletionSource<INetConn>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new TestHandler { DataHook = (conn, _) => connected.TrySetResult(conn) };
        using var harness = new ReactorHarness(kind, handler);
        using Socket client = harness.Connect();
        client.SendAll("x"u8);
        var output = (ICorkedOutput)await connected.Task.WaitAsync(ReactorHarness.Generous);

        Assert.True(output.TakeCorked(4).IsEmpty);
        Assert.True(harness.OnLoop(() => output.TakeCorked(4).IsEmpty));
    }

    [Theory]
    [MemberData(nameof(CorkedKinds))]
    public async Task Received_bytes_written_back_in_pieces_taken_or_written_arrive_intact_and_in_order(string kind)
    {
        // Each read is written back in pieces of random sizes, some written and some taken in the cork, so that the
        // two alternate and the cork fills up and is flushed in the middle of a callback.
        var random = new Random(3);
        var handler = new TestHandler
        {
            DataHook = (conn, data) =>
            {
                while (!data.IsEmpty)
                {
                    int piece = Math.Min(data.Length, random.Next(3) == 0 ? random.Next(1, 64) : random.Next(1000, 5000));
                    Span<byte> taken = random.Next(2) == 0 ? ((ICorkedOutput)conn).TakeCorked(piece) : default;
                    if (taken.IsEmpty)
                        Assert.Equal(piece, conn.Write(data[..piece]));
                    else
                        data[..piece].CopyTo(taken);
                    data = data[piece..];
                }
            },
        };
        using var harness = new ReactorHarness(kind, handler);
        using Socket client = harness.Connect();
        byte[] stream = SocketTestExtensions.Pattern(3_000_000, seed: 9);

        var sender = Task.Run(() => ReactorPipelineTests.SendInRandomChunks(client, stream, seed: 4));
        byte[] received = client.ReceiveExactly(stream.Length);

        await sender.WaitAsync(ReactorHarness.Generous);
        Assert.True(stream.AsSpan().SequenceEqual(received));
    }
}
