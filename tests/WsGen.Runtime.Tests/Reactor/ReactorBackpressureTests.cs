using System.Net.Sockets;

namespace WsGen.Tests.Reactor;

public sealed class ReactorBackpressureTests
{
    private static readonly ReactorOptions SmallBuffers = new()
    {
        ReceiveBufferSize = 16 * 1024,
        SendBufferSize = 16 * 1024,
        PauseReadingThreshold = 64 * 1024,
        SocketSendBufferSize = 32 * 1024,
        SocketReceiveBufferSize = 32 * 1024,
    };

    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public void A_client_that_stops_reading_pauses_reading_until_it_reads_again(string kind)
    {
        var handler = new TestHandler();
        long waitingAtData = 0;
        long reads = 0;
        handler.BeforeData = conn =>
        {
            InterlockedMax(ref waitingAtData, conn.WaitingBytes);
            Interlocked.Increment(ref reads);
        };
        using var harness = new ReactorHarness(kind, handler, SmallBuffers);
        using Socket client = harness.Connect(receiveBufferSize: 32 * 1024);
        byte[] sent = SocketTestExtensions.Pattern(4 * 1024 * 1024);
        // A thread of its own, not the thread pool: other tests may keep the pool busy on this 2-core machine.
        // A failure there is kept for the assertion below: a background thread's exception would end the test run.
        Exception? sendFailure = null;
        var sender = new Thread(() =>
        {
            try
            {
                client.SendAll(sent);
            }
            catch (Exception e)
            {
                sendFailure = e;
            }
        }) { IsBackground = true };
        sender.Start();

        // The client reads nothing: bytes pile up on the server until reading pauses.
        IReactorConn conn = null!;
        Assert.True(SocketTestExtensions.WaitUntil(() => handler.Open.Keys.FirstOrDefault() is IReactorConn c && (conn = c) is not null));
        long sampled = 0;
        // Until reading pauses, or until the client's kernel has taken all it sends (its send buffer grows with
        // autotuning, and under load a loop may stop reading earlier while a send is pending). A pause can also be
        // seen as input that stops while bytes wait: the waiting bytes pass the threshold only for a moment when the
        // sockets take some of them right after the pause, which sampling can miss.
        long lastReads = -1;
        int quietSamples = 0;
        Assert.True(SocketTestExtensions.WaitUntil(() =>
        {
            long waiting = harness.OnLoop(() => conn.WaitingBytes);
            sampled = Math.Max(sampled, waiting);
            long readsNow = Interlocked.Read(ref reads);
            quietSamples = readsNow == lastReads && waiting > 0 ? quietSamples + 1 : 0;
            lastReads = readsNow;
            return sampled > SmallBuffers.PauseReadingThreshold || !sender.IsAlive || quietSamples >= 100;
        }));
        for (int i = 0; i < 20; i++)
            sampled = Math.Max(sampled, harness.OnLoop(() => conn.WaitingBytes));

        // Reading resumes once the client reads: every byte comes back, in order.
        byte[] received = client.ReceiveExactly(sent.Length);
        Assert.True(sender.Join(ReactorHarness.Generous));
        Assert.Null(sendFailure);
        Assert.Equal(sent, received);

        Assert.True(sampled <= SmallBuffers.PauseReadingThreshold + SmallBuffers.ReceiveBufferSize, $"{sampled} bytes waited");
        Assert.True(Interlocked.Read(ref waitingAtData) <= SmallBuffers.PauseReadingThreshold, "OnData ran while reading should have been paused");
        // The client can hold every byte before the loop has handled the last send's completion.
        Assert.True(SocketTestExtensions.WaitUntil(() => harness.OnLoop(() => conn.WaitingBytes) == 0), "bytes still waited after the client read them all");
    }

    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public void Exceeding_MaxBackpressure_aborts_that_connection_only(string kind)
    {
        var options = new ReactorOptions
        {
            ReceiveBufferSize = 16 * 1024,
            PauseReadingThreshold = 64 * 1024,
            MaxBackpressure = 1024 * 1024,
            SocketSendBufferSize = 32 * 1024,
        };
        var handler = new TestHandler();
        INetConn? flooded = null;
        int refused = 0;
        byte[] block = new byte[256 * 1024];
        handler.DataHook = (conn, data) =>
        {
            if (data[0] != (byte)'F')
            {
                conn.Write(data);
                return;
            }

            flooded = conn;
            for (int i = 0; i < 16; i++)
            {
                if (conn.Write(block) == 0)
                    refused++;
            }
        };
        using var harness = new ReactorHarness(kind, handler, options);
        using Socket flooder = harness.Connect(receiveBufferSize: 32 * 1024);
        using Socket other = harness.Connect();

        flooder.SendAll("F"u8);
        Assert.True(SocketTestExtensions.WaitUntil(() => flooded is not null && handler.CloseCounts.ContainsKey(flooded)));
        Assert.Equal(1, handler.CloseCounts[flooded!]);
        Assert.True(refused > 0);

        // Letters only: no chunk of this message starts with the flood command.
        byte[] message = SocketTestExtensions.Pattern(100_000).Select(b => (byte)('a' + (b % 26))).ToArray();
        other.SendAll(message);
        Assert.Equal(message, other.ReceiveExactly(message.Length));
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
