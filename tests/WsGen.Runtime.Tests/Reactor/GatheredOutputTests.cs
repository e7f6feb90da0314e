using System.Buffers.Binary;
using System.Net.Sockets;
using WsGen.Reactor;
using WsGen.Transport;

namespace WsGen.Tests.Reactor;

/// <summary>
/// Gathered output (writes to a connection outside its own callback, sent at the end of the loop's turn): on every
/// loop, each connection gets its bytes in the order they were written, among its own corked writes, writes too large
/// to gather and the gather buffer's limits; gathered bytes count as waiting until they are sent.
/// </summary>
public sealed class GatheredOutputTests
{
    public static TheoryData<string> Kinds => ReactorHarness.Kinds;

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Writes_to_other_connections_arrive_in_write_order_among_corked_and_large_writes(string kind)
    {
        // Each byte 'T' a client sends makes a round on the loop: a record to the sender (corked), one to every other
        // connection (gathered), and every seventh round a record too large to gather to one of them. Records carry
        // the loop's sequence number, so each client sees whether its bytes kept the order they were written in.
        const int Clients = 12, Rounds = 40, Small = 20;
        int large = ConnectionCore<FakeBackend>.GatherLimit + 4321;
        var conns = new List<INetConn>();
        var written = new Dictionary<INetConn, int>();
        uint seq = 0;
        int rounds = 0;
        var handler = new TestHandler
        {
            OpenHook = conn =>
            {
                conns.Add(conn);
                written[conn] = 0;
            },
            DataHook = (conn, data) =>
            {
                foreach (byte b in data)
                {
                    if (b != (byte)'T')
                        continue;
                    WriteRecord(conn, seq++, Small);
                    foreach (INetConn other in conns)
                    {
                        if (other != conn)
                            WriteRecord(other, seq++, Small);
                    }

                    if (rounds++ % 7 == 0)
                        WriteRecord(conns[rounds / 7 % conns.Count], seq++, large);
                }
            },
        };

        void WriteRecord(INetConn conn, uint number, int length)
        {
            var record = new byte[8 + length];
            BinaryPrimitives.WriteUInt32LittleEndian(record, number);
            BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(4), length);
            for (int i = 0; i < length; i++)
                record[8 + i] = (byte)(number + i);
            Assert.Equal(record.Length, conn.Write(record));
            written[conn]++;
        }

        using var harness = new ReactorHarness(kind, handler);
        var clients = Enumerable.Range(0, Clients).Select(_ => harness.Connect()).ToArray();
        Assert.True(SocketTestExtensions.WaitUntil(() => harness.OnLoop(() => conns.Count) == Clients));

        // Each client reads (and checks) while everyone sends: one that stopped reading would hold the others up.
        var readers = clients.Select(client => new RecordReader(client)).ToArray();
        var reading = readers.Select(reader => Task.Run(reader.Run)).ToArray();
        Parallel.For(0, Clients, c =>
        {
            for (int r = 0; r < Rounds; r += 4)
                clients[c].SendAll("TTTT"u8);
        });

        // Once the loop made every round (and its turn ended), each client must get exactly what was written to it.
        Assert.True(SocketTestExtensions.WaitUntil(() => harness.OnLoop(() => rounds) == Clients * Rounds));
        int[] expected = harness.OnLoop(() => conns.Select(conn => written[conn]).ToArray());
        for (int c = 0; c < Clients; c++)
            readers[c].Expect(expected[c]);
        await Task.WhenAll(reading).WaitAsync(ReactorHarness.Generous);
        for (int c = 0; c < Clients; c++)
            Assert.Equal(expected[c], readers[c].Received);
        Assert.True(expected.Max() > Clients * Rounds, "large records should have gone to some clients");
        foreach (Socket client in clients)
            client.Dispose();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Gathered_bytes_count_as_waiting_until_the_turn_ends(string kind)
    {
        INetConn? first = null;
        var handler = new TestHandler { OpenHook = conn => first ??= conn };
        using var harness = new ReactorHarness(kind, handler);
        using Socket client = harness.Connect();
        Assert.True(SocketTestExtensions.WaitUntil(() => harness.OnLoop(() => first is not null)));
        var conn = (IReactorConn)first!;

        // Posted work is no callback of the connection: the write is gathered, and waits until the turn ends.
        long waiting = harness.OnLoop(() =>
        {
            conn.Write(new byte[1000]);
            conn.Write(new byte[234]);
            return conn.WaitingBytes;
        });
        Assert.Equal(1234, waiting);
        Assert.Equal(1234, client.ReceiveExactly(1234).Length);
        Assert.True(SocketTestExtensions.WaitUntil(() => harness.OnLoop(() => conn.WaitingBytes) == 0));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Shared_writes_keep_order_among_private_writes_and_across_a_full_gather_buffer(string kind)
    {
        // One piece of posted work (no callback of any connection: everything is gathered) makes rounds in which each
        // connection gets a small shared record (one SharedBytes per round, as a publish uses) and then a private one.
        // The connections are many and none gets GatherLimit bytes in all, so only a full buffer sends them: it is
        // emptied in the middle of a round and then filled again over the old offsets before it is sent again. The
        // connections after that point must get the shared record copied again, not the bytes later put at its old
        // offset.
        const int Clients = 200, Rounds = 50, SharedSize = 100, PrivateSize = 1000;
        const long Copied = Rounds * (SharedSize + 8 + Clients * (PrivateSize + 8L));
        Assert.True(Copied > 2 * 4 * 1024 * 1024, "the rounds should fill the largest gather buffer (4 MiB) twice");
        Assert.True(Rounds * (SharedSize + PrivateSize + 16) < ConnectionCore<FakeBackend>.GatherLimit);
        var conns = new List<INetConn>();
        var handler = new TestHandler { OpenHook = conns.Add };
        using var harness = new ReactorHarness(kind, handler);
        var clients = Enumerable.Range(0, Clients).Select(_ => harness.Connect()).ToArray();
        Assert.True(SocketTestExtensions.WaitUntil(() => harness.OnLoop(() => conns.Count) == Clients));

        harness.OnLoop(() =>
        {
            uint seq = 0;
            for (int r = 0; r < Rounds; r++)
            {
                byte[] common = Record(seq++, SharedSize);
                var shared = default(SharedBytes);
                foreach (INetConn conn in conns)
                {
                    Assert.Equal(common.Length, ((IReactorConn)conn).WriteShared(common, ref shared));
                    Assert.Equal(PrivateSize + 8, conn.Write(Record(seq++, PrivateSize)));
                }
            }

            return seq;
        });

        // Each client's records fit in the sockets' buffers and the loop's waiting queues: they are read one client
        // after the other.
        foreach (Socket client in clients)
        {
            var reader = new RecordReader(client);
            reader.Expect(2 * Rounds);
            reader.Run();
            Assert.Equal(2 * Rounds, reader.Received);
            client.Dispose();
        }
    }

    private static byte[] Record(uint number, int length)
    {
        var record = new byte[8 + length];
        BinaryPrimitives.WriteUInt32LittleEndian(record, number);
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(4), length);
        for (int i = 0; i < length; i++)
            record[8 + i] = (byte)(number + i);
        return record;
    }

    /// <summary>Reads records (sequence number, length, bytes) and checks each: its bytes, and a sequence number
    /// above the one before.</summary>
    private sealed class RecordReader(Socket client)
    {
        private int _expected = int.MaxValue;
        private int _received;

        public int Received => Volatile.Read(ref _received);

        public void Expect(int count) => Volatile.Write(ref _expected, count);

        public void Run()
        {
            long last = -1;
            while (Volatile.Read(ref _received) < Volatile.Read(ref _expected))
            {
                if (client.Available == 0 && !client.Poll(50_000, SelectMode.SelectRead))
                    continue;
                byte[] head = client.ReceiveExactly(8);
                uint number = BinaryPrimitives.ReadUInt32LittleEndian(head);
                int length = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(4));
                byte[] body = client.ReceiveExactly(length);
                Assert.True(number > last, $"record {number} after {last}");
                for (int i = 0; i < length; i++)
                    Assert.Equal((byte)(number + i), body[i]);
                last = number;
                Interlocked.Increment(ref _received);
            }
        }
    }
}
